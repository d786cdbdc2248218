package androidx.lifecycle;

/** AndroidX Lifecycle: LifecycleOwner (marker here; the app only passes it to CameraX). */
public interface LifecycleOwner { }
