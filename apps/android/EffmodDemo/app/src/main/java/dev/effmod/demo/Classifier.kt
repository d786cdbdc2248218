package dev.effmod.demo

import android.content.Context
import org.pytorch.executorch.EValue
import org.pytorch.executorch.Module
import org.pytorch.executorch.Tensor
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.GpuDelegate
import java.io.File
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel
import java.security.MessageDigest

/** One image in (normalised NCHW floats), logits out. Same interface for both runtimes. */
interface Classifier : AutoCloseable {
    val description: String
    fun logits(chw: FloatArray): FloatArray
}

fun openClassifier(context: Context, config: AppConfig, threads: Int, useGpu: Boolean = false): Classifier =
    when (config.runtime) {
        "tflite" -> TfliteClassifier(context, config, threads, useGpu)
        "executorch" -> ExecutorchClassifier(context, config, threads)
        else -> error("runtime ${config.runtime} is not supported by this app")
    }

/** LiteRT Interpreter; XNNPACK is its default CPU path, the GPU delegate is optional. */
class TfliteClassifier(context: Context, private val config: AppConfig, threads: Int, useGpu: Boolean) : Classifier {
    private val gpu = if (useGpu) GpuDelegate() else null
    private val interpreter: Interpreter
    private val numClasses = config.numClasses

    init {
        // stored uncompressed (see build.gradle.kts); the mapping outlives the descriptor and its stream
        val model = context.assets.openFd(config.modelFile).use { fd ->
            FileInputStream(fd.fileDescriptor).use { it.channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength) }
        }
        val options = Interpreter.Options().setNumThreads(threads)
        gpu?.let { options.addDelegate(it) }
        interpreter = Interpreter(model, options)
    }

    override val description = "LiteRT ${if (useGpu) "GPU" else "XNNPACK"}, $threads threads"

    override fun logits(chw: FloatArray): FloatArray {
        val out = Array(1) { FloatArray(numClasses) }
        if (config.inputDtype == "int8") {
            // Integer I/O (--io int8): quantize with the input tensor's own scale and zero point, rounding
            // ties to even as effmod does (numpy.round), so the bytes are the ones parity checked.
            val buf = ByteBuffer.allocateDirect(chw.size).order(ByteOrder.nativeOrder())
            for (v in chw) buf.put((Math.rint((v / config.inputScale).toDouble()).toInt() + config.inputZeroPoint).coerceIn(-128, 127).toByte())
            buf.rewind()
            val q = Array(1) { ByteArray(numClasses) }
            interpreter.run(buf, q)
            val t = interpreter.getOutputTensor(0)
            val (scale, zp) = t.quantizationParams().scale to t.quantizationParams().zeroPoint
            return FloatArray(numClasses) { (q[0][it] - zp) * scale }
        }
        val buf = ByteBuffer.allocateDirect(chw.size * 4).order(ByteOrder.nativeOrder())
        buf.asFloatBuffer().put(chw)
        interpreter.run(buf, out)
        return out[0]
    }

    override fun close() {
        interpreter.close()
        gpu?.close()
    }
}

/** ExecuTorch Module (XNNPACK delegate inside the .pte). Module.load needs a file path, so the
 *  asset is copied to app storage, again whenever the copy's sha256 is not the packaged artifact's:
 *  filesDir survives app updates, and a new model can have the old one's size. */
class ExecutorchClassifier(context: Context, private val config: AppConfig, threads: Int) : Classifier {
    private val module: Module

    init {
        val file = File(context.filesDir, config.modelFile)
        if (!file.exists() || sha256(file) != config.modelSha256) {
            val tmp = File(context.filesDir, config.modelFile + ".tmp")
            context.assets.open(config.modelFile).use { input -> tmp.outputStream().use { input.copyTo(it) } }
            check(sha256(tmp) == config.modelSha256) { "${config.modelFile} in the APK is not the packaged artifact" }
            check(tmp.renameTo(file)) { "cannot move ${tmp.name} into place" }
        }
        module = Module.load(file.absolutePath, Module.LOAD_MODE_MMAP, threads)
    }

    override val description = "ExecuTorch XNNPACK, $threads threads"

    override fun logits(chw: FloatArray): FloatArray {
        val input = Tensor.fromBlob(chw, config.inputShape)
        return module.forward(EValue.from(input))[0].toTensor().dataAsFloatArray
    }

    override fun close() = module.destroy()
}

fun sha256(file: File): String {
    val digest = MessageDigest.getInstance("SHA-256")
    file.inputStream().use { input ->
        val buf = ByteArray(1 shl 16)
        while (true) {
            val n = input.read(buf)
            if (n < 0) break
            digest.update(buf, 0, n)
        }
    }
    return digest.digest().joinToString("") { "%02x".format(it) }
}
