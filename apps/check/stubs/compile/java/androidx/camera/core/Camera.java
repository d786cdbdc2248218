package androidx.camera.core;

/** CameraX: Camera, what bindToLifecycle returns. */
public interface Camera { }
