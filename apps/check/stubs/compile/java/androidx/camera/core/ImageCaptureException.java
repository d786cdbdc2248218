package androidx.camera.core;

/** CameraX: ImageCaptureException. */
public class ImageCaptureException extends Exception { }
