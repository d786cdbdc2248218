package androidx.camera.core;

/** CameraX: CameraSelector.DEFAULT_BACK_CAMERA. */
public final class CameraSelector {
    public static final CameraSelector DEFAULT_BACK_CAMERA = null;
}
