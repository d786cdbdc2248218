import Foundation

/// `effmod_config.json`, written by `effmod package` from the artifact's manifest.
/// Property names are the JSON keys in camelCase (decoded with .convertFromSnakeCase).
struct AppConfig: Decodable {
    struct TensorSpec: Decodable {
        let name: String
        let shape: [Int]
        let dtype: String          // float32, float16 or image_rgb (Core ML ImageType input)
    }
    struct Resize: Decodable {
        let shorterSide: Int
        let interpolation: String?
    }
    struct Crop: Decodable {
        let size: [Int]            // [height, width]
    }
    struct SelfTest: Decodable {
        let image: String
        let preprocessed: Bool     // true: the image is already the model's input crop
        let expectedTop1: Int
        let expectedLabel: String
    }

    let modelName: String
    let runtime: String
    let modelFile: String
    let artifactSha256: String?
    let precision: String?
    let input: TensorSpec
    let output: TensorSpec
    let mean: [Float]
    let std: [Float]
    let resize: Resize
    let crop: Crop
    let labelsFile: String
    let numClasses: Int
    let selfTest: SelfTest

    static let fileName = "effmod_config.json"

    static func bundleURL(_ file: String) -> URL? {
        let name = (file as NSString).deletingPathExtension
        let ext = (file as NSString).pathExtension
        return Bundle.module.url(forResource: name, withExtension: ext.isEmpty ? nil : ext, subdirectory: "Bundle")
    }

    static func load() throws -> AppConfig {
        guard let url = bundleURL(fileName) else { throw AppError.missing(fileName) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(AppConfig.self, from: Data(contentsOf: url))
    }

    func labels() throws -> [String] {
        guard let url = AppConfig.bundleURL(labelsFile) else { throw AppError.missing(labelsFile) }
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        guard lines.count == numClasses else { throw AppError.labels(found: lines.count, expected: numClasses) }
        return lines
    }
}

enum AppError: LocalizedError {
    case missing(String)
    case labels(found: Int, expected: Int)
    case badImage
    case noOutput(String)

    var errorDescription: String? {
        switch self {
        case .missing(let f): return "\(f) is not in the app bundle: run effmod package to fill Sources/Bundle"
        case .labels(let found, let expected): return "labels.txt has \(found) lines, the model \(expected) classes"
        case .badImage: return "could not read the image"
        case .noOutput(let name): return "the model returned no '\(name)' output"
        }
    }
}
