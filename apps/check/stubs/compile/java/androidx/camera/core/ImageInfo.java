package androidx.camera.core;

/** CameraX: ImageInfo.getRotationDegrees. */
public interface ImageInfo {
    int getRotationDegrees();
}
