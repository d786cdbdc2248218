package androidx.camera.core;

import java.util.concurrent.Executor;

/** CameraX: ImageCapture (Builder, takePicture with an in-memory callback). */
public final class ImageCapture extends UseCase {
    public static final class Builder {
        public Builder() { }
        public ImageCapture build() { throw new UnsupportedOperationException("stub"); }
    }
    public abstract static class OnImageCapturedCallback {
        public void onCaptureSuccess(ImageProxy image) { }
        public void onError(ImageCaptureException exception) { }
    }
    public void takePicture(Executor executor, OnImageCapturedCallback callback) { throw new UnsupportedOperationException("stub"); }
}
