package androidx.core.content;

import android.content.Context;
import java.util.concurrent.Executor;

/** AndroidX Core: ContextCompat.getMainExecutor. */
public final class ContextCompat {
    public static Executor getMainExecutor(Context context) { throw new UnsupportedOperationException("stub"); }
}
