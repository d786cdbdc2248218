// Compose runtime (androidx.compose.runtime): the documented signatures the app calls. Compile-only.
package androidx.compose.runtime

import kotlin.reflect.KProperty
import kotlinx.coroutines.CoroutineScope

@Retention(AnnotationRetention.BINARY)
@Target(AnnotationTarget.FUNCTION, AnnotationTarget.TYPE, AnnotationTarget.TYPE_PARAMETER, AnnotationTarget.PROPERTY_GETTER)
annotation class Composable

interface State<out T> { val value: T }
interface MutableState<T> : State<T> { override var value: T }
interface IntState : State<Int> { val intValue: Int }
interface MutableIntState : IntState, MutableState<Int> { override var intValue: Int }

fun <T> mutableStateOf(value: T): MutableState<T> = TODO("stub")
fun mutableIntStateOf(value: Int): MutableIntState = TODO("stub")
operator fun <T> State<T>.getValue(thisObj: Any?, property: KProperty<*>): T = TODO("stub")
operator fun <T> MutableState<T>.setValue(thisObj: Any?, property: KProperty<*>, value: T): Unit = TODO("stub")
operator fun IntState.getValue(thisObj: Any?, property: KProperty<*>): Int = TODO("stub")
operator fun MutableIntState.setValue(thisObj: Any?, property: KProperty<*>, value: Int): Unit = TODO("stub")

@Composable inline fun <T> remember(crossinline calculation: () -> T): T = TODO("stub")
@Composable fun LaunchedEffect(key1: Any?, block: suspend CoroutineScope.() -> Unit): Unit = TODO("stub")
@Composable fun rememberCoroutineScope(): CoroutineScope = TODO("stub")

interface DisposableEffectResult
class DisposableEffectScope {
    inline fun onDispose(crossinline onDisposeEffect: () -> Unit): DisposableEffectResult = TODO("stub")
}
@Composable fun DisposableEffect(key1: Any?, effect: DisposableEffectScope.() -> DisposableEffectResult): Unit = TODO("stub")

open class CompositionLocal<T> { val current: T @Composable get() = TODO("stub") }
class ProvidableCompositionLocal<T> : CompositionLocal<T>()
