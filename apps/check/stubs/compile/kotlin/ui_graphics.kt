package androidx.compose.ui.graphics

@JvmInline value class Color(val value: ULong) {
    companion object {
        val Red: Color get() = TODO("stub")
        val Gray: Color get() = TODO("stub")
        val Unspecified: Color get() = TODO("stub")
    }
}
fun Color(color: Int): Color = TODO("stub")
fun Color(color: Long): Color = TODO("stub")
interface ImageBitmap
fun android.graphics.Bitmap.asImageBitmap(): ImageBitmap = TODO("stub")
