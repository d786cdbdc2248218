package androidx.activity.result;

/** AndroidX Activity: PickVisualMediaRequest (built with the PickVisualMediaRequest(mediaType) function). */
public final class PickVisualMediaRequest { }
