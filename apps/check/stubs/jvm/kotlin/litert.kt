// JVM stand-in for LiteRT 2.x's CompiledModel API (the same public names and parameters as the compile-only
// stub in apps/check/stubs/compile/kotlin/litert.kt), bridged to the real runtime: the model bytes the app
// loaded from its assets and the bytes it wrote into the input buffer go to ai_edge_litert through
// apps/check/bridge.py, and the output buffer holds what that runtime computed.
// Accelerators behave as LiteRT documents them on a device without litert-gpu: only the CPU is available;
// Options(GPU) alone throws LiteRtException; Options(GPU, CPU) silently runs on the CPU (recorded here).
// -Deffmod.gpu.available=1 lists a GPU that can run none of the model's ops (LiteRT's answer to a model
// the GPU cannot take whole: GPU alone throws), so the app's other refusal path runs too.
package com.google.ai.edge.litert

import android.content.res.AssetManager
import dev.effmod.check.Bridge
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

enum class Accelerator(val value: Int) { NONE(0), CPU(1), GPU(2), NPU(3) }

class LiteRtException(message: String) : Exception(message)

abstract class JniHandle internal constructor() : AutoCloseable {
    private var closed = false
    init { Bridge.OPEN_HANDLES.incrementAndGet() }
    protected fun assertNotDestroyed() = check(!closed) { "${javaClass.simpleName} used after close()" }
    final override fun close() {
        check(!closed) { "${javaClass.simpleName} closed twice" }
        closed = true
        Bridge.OPEN_HANDLES.decrementAndGet()
    }
}

class Environment private constructor() : JniHandle() {
    enum class Option(val value: Int) { CompilerPluginLibraryDir(0), DispatchLibraryDir(1) }
    fun getAvailableAccelerators(): Set<Accelerator> =
        if (System.getProperty("effmod.gpu.available") == "1") setOf(Accelerator.CPU, Accelerator.GPU) else setOf(Accelerator.CPU)
    companion object {
        fun create(options: Map<Option, String> = mapOf()): Environment = Environment()
    }
}

class TensorBuffer internal constructor() : JniHandle() {
    internal var bytes: ByteArray? = null
    internal var dtype = ""

    fun writeFloat(data: FloatArray) {
        assertNotDestroyed()
        val b = ByteBuffer.allocate(data.size * 4).order(ByteOrder.LITTLE_ENDIAN)
        data.forEach { b.putFloat(it) }
        bytes = b.array(); dtype = "float32"
    }
    fun writeInt8(data: ByteArray) { assertNotDestroyed(); bytes = data.copyOf(); dtype = "int8" }
    fun readFloat(): FloatArray {
        val b = ByteBuffer.wrap(read("float32")).order(ByteOrder.LITTLE_ENDIAN)
        return FloatArray(b.remaining() / 4) { b.getFloat() }
    }
    fun readInt8(): ByteArray = read("int8").copyOf()
    private fun read(asType: String): ByteArray {
        assertNotDestroyed()
        val data = checkNotNull(bytes) { "output buffer read before run()" }
        if (dtype != asType) throw LiteRtException("the output tensor is $dtype; read as $asType")
        return data
    }
}

class CompiledModel private constructor(private val model: File, private val threads: Int, private val ran: String) : JniHandle() {
    data class CpuOptions(val numThreads: Int? = null, val xnnPackFlags: Int? = null, val xnnPackWeightCachePath: String? = null)

    // Only what the app sets on the GPU (the compile-only stub has LiteRT's whole parameter list and is
    // what judges the app's calls; on the JVM the GPU is never reached).
    data class GpuOptions(val precision: Precision? = null) {
        enum class Precision(val value: Int) { DEFAULT(0), FP16(1), FP32(2) }
    }

    class Options(internal val accelerators: Set<Accelerator>) {
        constructor(vararg accelerators: Accelerator) : this(setOf(*accelerators))
        var cpuOptions: CpuOptions? = null
        var gpuOptions: GpuOptions? = null
        companion object { val CPU: Options get() = Options(Accelerator.CPU) }
    }

    fun createInputBuffers(signatureIndex: Int = 0): List<TensorBuffer> = listOf(TensorBuffer())
    fun createOutputBuffers(signatureIndex: Int = 0): List<TensorBuffer> = listOf(TensorBuffer())

    fun run(inputs: List<TensorBuffer>, outputs: List<TensorBuffer>, signatureIndex: Int = 0) {
        assertNotDestroyed()
        val input = inputs.single()
        val data = input.bytes ?: throw LiteRtException("input buffer was never written")
        val out = outputs.single()
        out.bytes = Bridge.run("tflite", model, data, threads, input.dtype, ran)
        out.dtype = Bridge.meta("bridge-out.dtype")
    }

    companion object {
        fun create(assetManager: AssetManager, assetName: String, options: Options = Options.CPU,
                   optionalEnv: Environment? = null): CompiledModel {
            val available = (optionalEnv ?: Environment.create()).getAvailableAccelerators()
            val usable = options.accelerators.filter { it in available && it != Accelerator.GPU }
            // LiteRT compiles onto what is registered; ops left over need the CPU in the set, or it throws
            if (Accelerator.CPU !in usable) throw LiteRtException(
                "Some ops are not accelerated. Add kLiteRtHwAcceleratorCpu to the compilation accelerator set")
            val model = File(System.getProperty("effmod.work"), "model-as-loaded.tflite")
            assetManager.open(assetName).use { model.writeBytes(it.readBytes()) }
            return CompiledModel(model, options.cpuOptions?.numThreads ?: -1, usable.joinToString(","))
        }
    }
}
