// Compose UI (androidx.compose.ui): Modifier. Compile-only.
package androidx.compose.ui

interface Modifier { companion object : Modifier }
