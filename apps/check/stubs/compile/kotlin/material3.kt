// Compose Material 3: the widgets the app uses. Compile-only.
package androidx.compose.material3

import androidx.compose.foundation.layout.RowScope
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.text.TextStyle

class Typography(val titleMedium: TextStyle, val titleSmall: TextStyle)
object MaterialTheme { val typography: Typography @Composable get() = TODO("stub") }
@Composable fun MaterialTheme(content: @Composable () -> Unit): Unit = TODO("stub")
@Composable fun Text(text: String, modifier: Modifier = Modifier, color: Color = Color.Unspecified,
                     style: TextStyle = TextStyle()): Unit = TODO("stub")
@Composable fun Button(onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true,
                       content: @Composable RowScope.() -> Unit): Unit = TODO("stub")
@Composable fun TabRow(selectedTabIndex: Int, modifier: Modifier = Modifier, tabs: @Composable () -> Unit): Unit = TODO("stub")
@Composable fun Tab(selected: Boolean, onClick: () -> Unit, modifier: Modifier = Modifier,
                    text: @Composable (() -> Unit)? = null): Unit = TODO("stub")
@Composable fun FilterChip(selected: Boolean, onClick: () -> Unit, label: @Composable () -> Unit,
                           modifier: Modifier = Modifier): Unit = TODO("stub")
@Composable fun Switch(checked: Boolean, onCheckedChange: ((Boolean) -> Unit)?, modifier: Modifier = Modifier): Unit = TODO("stub")
