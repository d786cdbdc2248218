// LiteRT 2.x Kotlin API (com.google.ai.edge.litert, artifact litert 2.3.0): the documented public
// signatures of the classes the app calls (CompiledModel, its Options/CpuOptions/GpuOptions, TensorBuffer,
// Environment, Accelerator, LiteRtException), written for this check. Compile-only: every body throws.
// The Interpreter (org.tensorflow.lite) is deliberately absent, so an app that falls back to it fails.
package com.google.ai.edge.litert

import android.content.res.AssetManager

enum class Accelerator(val value: Int) { NONE(0), CPU(1), GPU(2), NPU(3) }

enum class Status(val code: Int) { Ok(0), ErrorInvalidArgument(1), ErrorRuntimeFailure(3), ErrorUnsupported(5), ErrorCompilation(504) }

class LiteRtException(private val status: Status, message: String) : Exception(message) {
    constructor(code: Int, message: String) : this(Status.Ok, message)
}

abstract class JniHandle internal constructor(internal val handle: Long) : AutoCloseable {
    protected abstract fun destroy()
    final override fun close(): Unit = TODO("stub")
}

class Environment private constructor(handle: Long) : JniHandle(handle) {
    enum class Option(val value: Int) { CompilerPluginLibraryDir(0), DispatchLibraryDir(1) }
    override fun destroy(): Unit = TODO("stub")
    @Throws(LiteRtException::class)
    fun getAvailableAccelerators(): Set<Accelerator> = TODO("stub")
    companion object {
        @Throws(LiteRtException::class)
        fun create(options: Map<Option, String> = mapOf()): Environment = TODO("stub")
    }
}

data class TensorType @JvmOverloads constructor(val elementType: ElementType, val layout: Layout? = null) {
    enum class ElementType { INT, FLOAT, INT8, BOOLEAN, INT64 }
    data class Layout @JvmOverloads constructor(val dimensions: List<Int>, val strides: List<Int> = listOf())
}

class TensorBuffer internal constructor(handle: Long) : JniHandle(handle) {
    @Throws(LiteRtException::class) fun writeFloat(data: FloatArray): Unit = TODO("stub")
    @Throws(LiteRtException::class) fun writeInt8(data: ByteArray): Unit = TODO("stub")
    @Throws(LiteRtException::class) fun writeInt(data: IntArray): Unit = TODO("stub")
    @Throws(LiteRtException::class) fun readFloat(): FloatArray = TODO("stub")
    @Throws(LiteRtException::class) fun readInt8(): ByteArray = TODO("stub")
    @Throws(LiteRtException::class) fun readInt(): IntArray = TODO("stub")
    override fun destroy(): Unit = TODO("stub")
}

class CompiledModel private constructor(handle: Long, private val env: Environment) : JniHandle(handle) {
    data class CpuOptions(val numThreads: Int? = null, val xnnPackFlags: Int? = null, val xnnPackWeightCachePath: String? = null)

    data class GpuOptions(
        val constantTensorSharing: Boolean? = null,
        val infiniteFloatCapping: Boolean? = null,
        val allowSrcQuantizedFcConvOps: Boolean? = null,
        val precision: Precision? = null,
        val bufferStorageType: BufferStorageType? = null,
        val preferTextureWeights: Boolean? = null,
        val serializationDir: String? = null,
        val modelCacheKey: String? = null,
        val serializeProgramCache: Boolean? = null,
        val serializeExternalTensors: Boolean? = null,
        val externalTensorsMode: Boolean? = null,
        val externalTensorPattern: String? = null,
        val backend: Backend? = null,
        val priority: Priority? = null,
        val numStepsOfCommandBufferPreparations: Int? = null,
    ) {
        enum class Precision(val value: Int) { DEFAULT(0), FP16(1), FP32(2) }
        enum class BufferStorageType(val value: Int) { DEFAULT(0), BUFFER(1), TEXTURE_2D(2) }
        enum class Backend(val value: Int) { AUTOMATIC(0), OPENCL(1), WEBGPU(2), OPENGL(3) }
        enum class Priority(val value: Int) { DEFAULT(0), LOW(1), NORMAL(2), HIGH(3) }
    }

    class Options(internal val accelerators: Set<Accelerator>) {
        constructor(vararg accelerators: Accelerator) : this(setOf(*accelerators))
        var cpuOptions: CpuOptions? = null
        var gpuOptions: GpuOptions? = null
        companion object { @JvmStatic val CPU: Options = Options(Accelerator.CPU) }
    }

    @Throws(LiteRtException::class) @JvmOverloads
    fun createInputBuffers(signatureIndex: Int = 0): List<TensorBuffer> = TODO("stub")
    @Throws(LiteRtException::class) @JvmOverloads
    fun createOutputBuffers(signatureIndex: Int = 0): List<TensorBuffer> = TODO("stub")
    @Throws(LiteRtException::class) @JvmOverloads
    fun run(inputs: List<TensorBuffer>, signatureIndex: Int = 0): List<TensorBuffer> = TODO("stub")
    @Throws(LiteRtException::class) @JvmOverloads
    fun run(inputs: List<TensorBuffer>, outputs: List<TensorBuffer>, signatureIndex: Int = 0): Unit = TODO("stub")
    fun getInputTensorType(inputName: String, signature: String = ""): TensorType = TODO("stub")
    fun getOutputTensorType(outputName: String, signature: String = ""): TensorType = TODO("stub")
    override fun destroy(): Unit = TODO("stub")

    companion object {
        @Throws(LiteRtException::class) @JvmOverloads @JvmStatic
        fun create(assetManager: AssetManager, assetName: String, options: Options = Options.CPU,
                   optionalEnv: Environment? = null): CompiledModel = TODO("stub")
        @Throws(LiteRtException::class) @JvmOverloads @JvmStatic
        fun create(filePath: String, options: Options = Options.CPU, optionalEnv: Environment? = null): CompiledModel = TODO("stub")
    }
}
