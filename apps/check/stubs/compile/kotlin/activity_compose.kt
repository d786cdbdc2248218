// AndroidX Activity Compose: setContent, rememberLauncherForActivityResult. Compile-only.
package androidx.activity.compose

import androidx.activity.ComponentActivity
import androidx.activity.result.contract.ActivityResultContract
import androidx.compose.runtime.Composable

class ManagedActivityResultLauncher<I, O> { fun launch(input: I): Unit = TODO("stub") }
fun ComponentActivity.setContent(content: @Composable () -> Unit): Unit = TODO("stub")
@Composable fun <I, O> rememberLauncherForActivityResult(contract: ActivityResultContract<I, O>,
                                                        onResult: (O) -> Unit): ManagedActivityResultLauncher<I, O> = TODO("stub")
