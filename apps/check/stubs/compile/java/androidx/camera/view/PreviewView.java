package androidx.camera.view;

import android.content.Context;
import android.widget.FrameLayout;
import androidx.camera.core.Preview;

/** CameraX view: PreviewView (a FrameLayout with a SurfaceProvider). */
public final class PreviewView extends FrameLayout {
    public PreviewView(Context context) { super(context); }
    public Preview.SurfaceProvider getSurfaceProvider() { throw new UnsupportedOperationException("stub"); }
}
