package android.graphics;

import java.util.ArrayList;
import java.util.List;

/** android.graphics.Bitmap as ARGB ints. createScaledBitmap records the requested size (nearest-neighbour pixels). */
public final class Bitmap {
    public static final List<int[]> SCALED_TO = new ArrayList<>();
    final int width, height;
    final int[] argb;
    public Bitmap(int width, int height, int[] argb) { this.width = width; this.height = height; this.argb = argb; }
    public int getWidth() { return width; }
    public int getHeight() { return height; }
    public void getPixels(int[] pixels, int offset, int stride, int x, int y, int w, int h) {
        for (int r = 0; r < h; r++) System.arraycopy(argb, (y + r) * width + x, pixels, offset + r * stride, w);
    }
    public static Bitmap createScaledBitmap(Bitmap src, int dstWidth, int dstHeight, boolean filter) {
        SCALED_TO.add(new int[] {src.width, src.height, dstWidth, dstHeight});
        int[] out = new int[dstWidth * dstHeight];
        for (int r = 0; r < dstHeight; r++)
            for (int c = 0; c < dstWidth; c++)
                out[r * dstWidth + c] = src.argb[(int) ((long) r * src.height / dstHeight) * src.width + (int) ((long) c * src.width / dstWidth)];
        return new Bitmap(dstWidth, dstHeight, out);
    }
    public static Bitmap createBitmap(Bitmap src, int x, int y, int w, int h) {
        if (x < 0 || y < 0 || x + w > src.width || y + h > src.height) throw new IllegalArgumentException("crop outside the bitmap");
        int[] out = new int[w * h];
        src.getPixels(out, 0, w, x, y, w, h);
        return new Bitmap(w, h, out);
    }
}
