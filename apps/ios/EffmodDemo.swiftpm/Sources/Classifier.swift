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
        if FileManager.default.fileExists(atPath: compiled.path) { return compiled }
        let temporary = try await MLModel.compileModel(at: source)
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: temporary, to: compiled)
        return compiled
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
                array.withUnsafeMutableBufferPointer(ofType: Float16.self) { buf, _ in
                    for i in 0..<chw.count { buf[i] = Float16(chw[i]) }
                }
            } else {
                array.withUnsafeMutableBufferPointer(ofType: Float.self) { buf, _ in
                    for i in 0..<chw.count { buf[i] = chw[i] }
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
