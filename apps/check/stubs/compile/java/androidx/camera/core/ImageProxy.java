package androidx.camera.core;

import android.graphics.Bitmap;

/** CameraX: ImageProxy (getImageInfo, toBitmap, close). */
public interface ImageProxy extends AutoCloseable {
    ImageInfo getImageInfo();
    Bitmap toBitmap();
    @Override void close();
}
