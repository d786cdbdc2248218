// Compose foundation.layout: Column, Row, Arrangement, size and padding modifiers. Compile-only.
package androidx.compose.foundation.layout

import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.Dp

object Arrangement {
    interface Horizontal
    interface Vertical
    interface HorizontalOrVertical : Horizontal, Vertical
    val Top: Vertical get() = TODO("stub")
    val Start: Horizontal get() = TODO("stub")
    fun spacedBy(space: Dp): HorizontalOrVertical = TODO("stub")
}
interface ColumnScope { fun Modifier.weight(weight: Float, fill: Boolean = true): Modifier = TODO("stub") }
interface RowScope { fun Modifier.weight(weight: Float, fill: Boolean = true): Modifier = TODO("stub") }

@Composable inline fun Column(modifier: Modifier = Modifier, verticalArrangement: Arrangement.Vertical = Arrangement.Top,
                              content: @Composable ColumnScope.() -> Unit): Unit = TODO("stub")
@Composable inline fun Row(modifier: Modifier = Modifier, horizontalArrangement: Arrangement.Horizontal = Arrangement.Start,
                           content: @Composable RowScope.() -> Unit): Unit = TODO("stub")
fun Modifier.fillMaxSize(fraction: Float = 1f): Modifier = TODO("stub")
fun Modifier.fillMaxWidth(fraction: Float = 1f): Modifier = TODO("stub")
fun Modifier.padding(all: Dp): Modifier = TODO("stub")
fun Modifier.padding(start: Dp = Dp(0f), top: Dp = Dp(0f), end: Dp = Dp(0f), bottom: Dp = Dp(0f)): Modifier = TODO("stub")
fun Modifier.heightIn(min: Dp = Dp(Float.NaN), max: Dp = Dp(Float.NaN)): Modifier = TODO("stub")
