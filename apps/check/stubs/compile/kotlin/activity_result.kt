// AndroidX Activity: PickVisualMediaRequest(mediaType) and the two contracts the app uses (Kotlin objects). Compile-only.
package androidx.activity.result

import androidx.activity.result.contract.ActivityResultContracts

fun PickVisualMediaRequest(mediaType: ActivityResultContracts.PickVisualMedia.VisualMediaType): PickVisualMediaRequest = TODO("stub")
