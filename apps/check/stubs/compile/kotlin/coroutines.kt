// kotlinx.coroutines: the documented signatures the app calls. Compile-only.
package kotlinx.coroutines

import kotlin.coroutines.CoroutineContext

interface CoroutineScope { val coroutineContext: CoroutineContext }
interface Job : CoroutineContext.Element
abstract class CoroutineDispatcher : CoroutineContext.Element
object Dispatchers { val Default: CoroutineDispatcher get() = TODO("stub") }
fun CoroutineScope.launch(context: CoroutineContext = kotlin.coroutines.EmptyCoroutineContext,
                          block: suspend CoroutineScope.() -> Unit): Job = TODO("stub")
suspend fun <T> withContext(context: CoroutineContext, block: suspend CoroutineScope.() -> T): T = TODO("stub")
