// Core ML (and the CoreVideo constant it takes): the documented signatures the iOS app calls, for
// type-checking only (every body traps).
@_exported import CoreGraphics

public typealias OSType = UInt32
public let kCVPixelFormatType_32BGRA: OSType = 0x4247_5241

public enum MLComputeUnits: Int { case cpuOnly = 0, cpuAndGPU = 1, all = 2, cpuAndNeuralEngine = 3 }

public final class MLModelConfiguration: NSObject {
    public override init() { fatalError("stub") }
    public var computeUnits: MLComputeUnits { get { fatalError("stub") } set { fatalError("stub") } }
}

public protocol MLFeatureProvider {
    var featureNames: Set<String> { get }
    func featureValue(for featureName: String) -> MLFeatureValue?
}

public enum MLMultiArrayDataType: Int { case double = 65600, float64 = 65601, float32 = 65568, float16 = 65552, int32 = 131104 }

public final class MLMultiArray: NSObject {
    public init(shape: [NSNumber], dataType: MLMultiArrayDataType) throws { fatalError("stub") }
    public var count: Int { fatalError("stub") }
    public var shape: [NSNumber] { fatalError("stub") }
    public var strides: [NSNumber] { fatalError("stub") }
    public subscript(index: Int) -> NSNumber { get { fatalError("stub") } set { fatalError("stub") } }
    public func withUnsafeMutableBufferPointer<S, R>(ofType type: S.Type,
        _ body: (_ buffer: UnsafeMutableBufferPointer<S>, _ strides: [Int]) throws -> R) rethrows -> R { fatalError("stub") }
}

public final class MLFeatureValue: NSObject {
    public init(multiArray value: MLMultiArray) { fatalError("stub") }
    public init(cgImage: CGImage, pixelsWide: Int, pixelsHigh: Int, pixelFormatType: OSType,
                options: [String: Any]?) throws { fatalError("stub") }
    public var multiArrayValue: MLMultiArray? { fatalError("stub") }
}

public final class MLDictionaryFeatureProvider: NSObject, MLFeatureProvider {
    public init(dictionary: [String: Any]) throws { fatalError("stub") }
    public var featureNames: Set<String> { fatalError("stub") }
    public func featureValue(for featureName: String) -> MLFeatureValue? { fatalError("stub") }
}

open class MLModel: NSObject {
    public convenience init(contentsOf url: URL, configuration: MLModelConfiguration) throws { fatalError("stub") }
    open func prediction(from input: MLFeatureProvider) throws -> MLFeatureProvider { fatalError("stub") }
    public class func compileModel(at modelURL: URL) async throws -> URL { fatalError("stub") }
}
