package dev.effmod.demo

import android.graphics.Bitmap
import kotlin.math.exp

data class Prediction(val index: Int, val label: String, val score: Float)

/** Shorter side to config.resizeShorterSide, center crop to config.cropSize (as effmod's data config).
 *  Android's bilinear filter is close to, not bit-identical with, PIL's; the self-test image is
 *  shipped already cropped so that check does not depend on it. The sizes are effmod's exactly:
 *  the longer side is round(long * shorter_side / short) in double with ties to even, as Python's
 *  round() (a 128x201 photo scales to 64x100, not 64x101). */
fun resizeAndCenterCrop(bitmap: Bitmap, config: AppConfig): Bitmap {
    val (h, w) = config.cropSize[0] to config.cropSize[1]
    val side = config.resizeShorterSide
    val short = minOf(bitmap.width, bitmap.height)
    fun scaled(n: Int) = if (n == short) side else Math.rint(n.toDouble() * side / short).toInt()
    val sw = scaled(bitmap.width).coerceAtLeast(w)
    val sh = scaled(bitmap.height).coerceAtLeast(h)
    val scaled = Bitmap.createScaledBitmap(bitmap, sw, sh, true)
    return Bitmap.createBitmap(scaled, (sw - w) / 2, (sh - h) / 2, w, h)
}

/** RGB scaled to [0, 1], normalised with mean/std, CHW order. */
fun normalizedChw(bitmap: Bitmap, config: AppConfig): FloatArray {
    val (w, h) = bitmap.width to bitmap.height
    val pixels = IntArray(w * h)
    bitmap.getPixels(pixels, 0, w, 0, 0, w, h)
    val out = FloatArray(3 * w * h)
    for (p in pixels.indices) {
        val c = pixels[p]
        val rgb = floatArrayOf(((c shr 16) and 0xFF) / 255f, ((c shr 8) and 0xFF) / 255f, (c and 0xFF) / 255f)
        for (ch in 0 until 3) out[ch * w * h + p] = (rgb[ch] - config.mean[ch]) / config.std[ch]
    }
    return out
}

fun topK(logits: FloatArray, labels: List<String>, k: Int = 5): List<Prediction> {
    val max = logits.max()
    val exps = logits.map { exp((it - max).toDouble()) }
    val total = exps.sum()
    return exps.indices.sortedByDescending { exps[it] }.take(k)
        .map { Prediction(it, labels[it], (exps[it] / total).toFloat()) }
}

/** Median and p90 of timings in ms. */
fun summarize(times: List<Double>): Pair<Double, Double> {
    val s = times.sorted()
    return s[s.size / 2] to s[minOf(s.size - 1, (s.size * 0.9).toInt())]
}
