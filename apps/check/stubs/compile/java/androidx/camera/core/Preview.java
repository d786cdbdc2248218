package androidx.camera.core;

/** CameraX: Preview (Builder, setSurfaceProvider). */
public final class Preview extends UseCase {
    public interface SurfaceProvider { }
    public static final class Builder {
        public Builder() { }
        public Preview build() { throw new UnsupportedOperationException("stub"); }
    }
    public void setSurfaceProvider(SurfaceProvider surfaceProvider) { throw new UnsupportedOperationException("stub"); }
}
