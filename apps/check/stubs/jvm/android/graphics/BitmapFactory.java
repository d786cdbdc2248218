package android.graphics;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import javax.imageio.ImageIO;

/** android.graphics.BitmapFactory.decodeStream via ImageIO (8-bit RGB(A) PNG/JPEG). */
public final class BitmapFactory {
    public static Bitmap decodeStream(InputStream is) {
        try {
            BufferedImage img = ImageIO.read(is);
            if (img == null) return null;
            int w = img.getWidth(), h = img.getHeight();
            return new Bitmap(w, h, img.getRGB(0, 0, w, h, null, 0, w));
        } catch (IOException e) {
            return null;
        }
    }
}
