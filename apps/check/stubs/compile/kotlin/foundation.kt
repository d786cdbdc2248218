// Compose foundation: Image, background, scrolling. Compile-only.
package androidx.compose.foundation

import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.ImageBitmap

class ScrollState
@Composable fun rememberScrollState(initial: Int = 0): ScrollState = TODO("stub")
fun Modifier.verticalScroll(state: ScrollState): Modifier = TODO("stub")
fun Modifier.background(color: Color): Modifier = TODO("stub")
@Composable fun Image(bitmap: ImageBitmap, contentDescription: String?, modifier: Modifier = Modifier): Unit = TODO("stub")
