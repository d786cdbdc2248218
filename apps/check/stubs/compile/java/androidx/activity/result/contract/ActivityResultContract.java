package androidx.activity.result.contract;

/** AndroidX Activity: ActivityResultContract<I, O>. */
public abstract class ActivityResultContract<I, O> { }
