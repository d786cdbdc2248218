package android.graphics;

import android.content.ContentResolver;
import android.net.Uri;

/** android.graphics.ImageDecoder (API 28; Debian's android.jar is API 23): the calls the app makes. */
public final class ImageDecoder implements AutoCloseable {
    public static final int ALLOCATOR_SOFTWARE = 1;
    public abstract static class Source { }
    public static class ImageInfo { }
    public interface OnHeaderDecodedListener { void onHeaderDecoded(ImageDecoder decoder, ImageInfo info, Source source); }
    public static Source createSource(ContentResolver cr, Uri uri) { throw new UnsupportedOperationException("stub"); }
    public static Bitmap decodeBitmap(Source src, OnHeaderDecodedListener listener) { throw new UnsupportedOperationException("stub"); }
    public void setAllocator(int allocator) { throw new UnsupportedOperationException("stub"); }
    public int getAllocator() { throw new UnsupportedOperationException("stub"); }
    @Override public void close() { }
}
