package androidx.camera.core;

/** CameraX: UseCase, the base of Preview and ImageCapture. */
public abstract class UseCase { }
