import CoreML
import UIKit

struct Prediction: Identifiable {
    let index: Int
    let label: String
    let score: Float
    var id: Int { index }
}

/// Loads the packaged Core ML model and classifies images with the preprocessing of its config.
final class Classifier {
    let config: AppConfig
    let labels: [String]
    let model: MLModel

    init(config: AppConfig, computeUnits: MLComputeUnits = .all) async throws {
        self.config = config
        self.labels = try config.labels()
        let modelConfig = MLModelConfiguration()
        modelConfig.computeUnits = computeUnits
        self.model = try MLModel(contentsOf: try await Classifier.compiledModelURL(config), configuration: modelConfig)
    }

    /// Compiles the bundled .mlpackage once per artifact (keyed by its sha256) and caches the .mlmodelc.
    static func compiledModelURL(_ config: AppConfig) async throws -> URL {
        guard let source = AppConfig.bundleURL(config.modelFile) else { throw AppError.missing(config.modelFile) }
        let cache = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask,
                                                appropriateFor: nil, create: true)
            .appendingPathComponent("effmod", isDirectory: true)
        let compiled = cache.appendingPathComponent("\(config.artifactSha256 ?? config.modelName).mlmodelc")
        return try await ModelCompiler.shared.compiled(source: source, to: compiled)
    }

    /// Top-k predictions and the time of `model.prediction` alone (preprocessing excluded).
    func classify(_ image: CGImage, preprocessed: Bool = false, topK: Int = 5) throws -> ([Prediction], Double) {
        let features = try inputFeatures(image, preprocessed: preprocessed)
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try model.prediction(from: features)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        guard let logits = result.featureValue(for: config.output.name)?.multiArrayValue else {
            throw AppError.noOutput(config.output.name)
        }
        return (topPredictions(logits, k: topK), ms)
    }

    func inputFeatures(_ image: CGImage, preprocessed: Bool) throws -> MLFeatureProvider {
        let (h, w) = (config.crop.size[0], config.crop.size[1])
        let crop = preprocessed ? image : try Preprocess.resizeAndCenterCrop(
            image, shorterSide: config.resize.shorterSide, width: w, height: h)
        let value: MLFeatureValue
        if config.input.dtype == "image_rgb" {
            // Exported with --image-input: mean/std are inside the model.
            value = try MLFeatureValue(cgImage: crop, pixelsWide: w, pixelsHigh: h,
                                       pixelFormatType: kCVPixelFormatType_32BGRA, options: nil)
        } else {
            let chw = try Preprocess.normalizedCHW(crop, mean: config.mean, std: config.std)
            let type: MLMultiArrayDataType = config.input.dtype == "float16" ? .float16 : .float32
            let array = try MLMultiArray(shape: config.input.shape.map { NSNumber(value: $0) }, dataType: type)
            if type == .float16 {
                array.withUnsafeMutableBufferPointer(ofType: Float16.self) { buf, strides in
                    Preprocess.fill(buf, strides: strides, chw: chw, height: h, width: w) { Float16($0) }
                }
            } else {
                array.withUnsafeMutableBufferPointer(ofType: Float.self) { buf, strides in
                    Preprocess.fill(buf, strides: strides, chw: chw, height: h, width: w) { $0 }
                }
            }
            value = MLFeatureValue(multiArray: array)
        }
        return try MLDictionaryFeatureProvider(dictionary: [config.input.name: value])
    }

    private func topPredictions(_ logits: MLMultiArray, k: Int) -> [Prediction] {
        let values = (0..<logits.count).map { logits[$0].floatValue }
        let maxLogit = values.max() ?? 0
        let exps = values.map { expf($0 - maxLogit) }
        let total = exps.reduce(0, +)
        return exps.enumerated().sorted { $0.element > $1.element }.prefix(k).map {
            Prediction(index: $0.offset, label: labels[$0.offset], score: $0.element / total)
        }
    }
}

/// One compile per model at a time: the launch self-test and a benchmark started right away both ask for the
/// compiled model, and the second must wait for the first instead of racing it to move the .mlmodelc into place.
actor ModelCompiler {
    static let shared = ModelCompiler()
    private var inFlight: [URL: Task<URL, Error>] = [:]

    func compiled(source: URL, to destination: URL) async throws -> URL {
        if FileManager.default.fileExists(atPath: destination.path) { return destination }
        if let running = inFlight[destination] { return try await running.value }
        let task = Task { () throws -> URL in
            let temporary = try await MLModel.compileModel(at: source)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try FileManager.default.moveItem(at: temporary, to: destination)
            return destination
        }
        inFlight[destination] = task
        defer { inFlight[destination] = nil }
        return try await task.value
    }
}

enum Preprocess {
    /// Shorter side to `shorterSide`, then a centered `width`×`height` crop (as effmod's data config).
    /// Core Graphics resampling is close to, not bit-identical with, PIL's; the self-test image is
    /// shipped already cropped so that check does not depend on it.
    static func resizeAndCenterCrop(_ image: CGImage, shorterSide: Int, width: Int, height: Int) throws -> CGImage {
        let scale = CGFloat(shorterSide) / CGFloat(min(image.width, image.height))
        let (sw, sh) = (CGFloat(image.width) * scale, CGFloat(image.height) * scale)
        guard let ctx = CGContext(data: nil, width: width, height: height, bitsPerComponent: 8, bytesPerRow: 0,
                                  space: CGColorSpaceCreateDeviceRGB(),
                                  bitmapInfo: CGImageAlphaInfo.noneSkipLast.rawValue) else { throw AppError.badImage }
        ctx.interpolationQuality = .high
        ctx.draw(image, in: CGRect(x: (CGFloat(width) - sw) / 2, y: (CGFloat(height) - sh) / 2, width: sw, height: sh))
        guard let out = ctx.makeImage() else { throw AppError.badImage }
        return out
    }

    /// Writes CHW values into a [1, 3, H, W] multi-array through its strides: Core ML documents that the
    /// storage behind `withUnsafeMutableBufferPointer` may be padded, so a flat index is not an offset.
    static func fill<T>(_ buf: UnsafeMutableBufferPointer<T>, strides: [Int], chw: [Float], height h: Int, width w: Int,
                        _ convert: (Float) -> T) {
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w {
                    buf[c * strides[1] + y * strides[2] + x * strides[3]] = convert(chw[(c * h + y) * w + x])
                }
            }
        }
    }

    /// RGB pixels scaled to [0, 1], normalised with mean/std, in CHW order.
    static func normalizedCHW(_ image: CGImage, mean: [Float], std: [Float]) throws -> [Float] {
        let (w, h) = (image.width, image.height)
        var rgba = [UInt8](repeating: 0, count: w * h * 4)
        guard let ctx = CGContext(data: &rgba, width: w, height: h, bitsPerComponent: 8, bytesPerRow: w * 4,
                                  space: CGColorSpaceCreateDeviceRGB(),
                                  bitmapInfo: CGImageAlphaInfo.noneSkipLast.rawValue) else { throw AppError.badImage }
        ctx.draw(image, in: CGRect(x: 0, y: 0, width: w, height: h))
        var chw = [Float](repeating: 0, count: 3 * w * h)
        for p in 0..<(w * h) {
            for c in 0..<3 {
                chw[c * w * h + p] = (Float(rgba[p * 4 + c]) / 255 - mean[c]) / std[c]
            }
        }
        return chw
    }
}
