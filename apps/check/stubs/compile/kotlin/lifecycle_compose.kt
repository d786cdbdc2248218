package androidx.lifecycle.compose

import androidx.compose.runtime.ProvidableCompositionLocal
import androidx.lifecycle.LifecycleOwner

val LocalLifecycleOwner: ProvidableCompositionLocal<LifecycleOwner> = ProvidableCompositionLocal()
