package androidx.camera.lifecycle;

import android.content.Context;
import androidx.camera.core.Camera;
import androidx.camera.core.CameraSelector;
import androidx.camera.core.UseCase;
import androidx.lifecycle.LifecycleOwner;
import com.google.common.util.concurrent.ListenableFuture;

/** CameraX: ProcessCameraProvider (getInstance, bindToLifecycle, unbindAll). */
public final class ProcessCameraProvider {
    public static ListenableFuture<ProcessCameraProvider> getInstance(Context context) { throw new UnsupportedOperationException("stub"); }
    public Camera bindToLifecycle(LifecycleOwner owner, CameraSelector selector, UseCase... useCases) { throw new UnsupportedOperationException("stub"); }
    public void unbindAll() { throw new UnsupportedOperationException("stub"); }
}
