import SwiftUI
import UIKit

enum SelfTestResult {
    case running
    case passed(String)
    case failed(String)
}

/// Classifies the bundled sample (already cropped to the input size at packaging time) and compares
/// the top-1 with the one effmod computed on the same artifact when it packaged the app.
enum SelfTest {
    static func run(_ classifier: Classifier) -> SelfTestResult {
        let test = classifier.config.selfTest
        guard let url = AppConfig.bundleURL(test.image),
              let image = UIImage(contentsOfFile: url.path)?.cgImage else {
            return .failed("\(test.image) missing from the bundle")
        }
        do {
            let (top, ms) = try classifier.classify(image, preprocessed: test.preprocessed, topK: 1)
            guard let first = top.first else { return .failed("no prediction") }
            let detail = String(format: "%@ (%.0f%%, %.1f ms)", first.label, first.score * 100, ms)
            return first.index == test.expectedTop1
                ? .passed("self-test passed: \(detail)")
                : .failed("self-test FAILED: got \(detail), expected \(test.expectedLabel)")
        } catch {
            return .failed("self-test FAILED: \(error.localizedDescription)")
        }
    }
}

struct SelfTestBanner: View {
    let result: SelfTestResult

    var body: some View {
        Group {
            switch result {
            case .running: Label("self-test running…", systemImage: "hourglass").foregroundStyle(.secondary)
            case .passed(let text): Label(text, systemImage: "checkmark.seal.fill").foregroundStyle(.green)
            case .failed(let text): Label(text, systemImage: "xmark.octagon.fill").foregroundStyle(.red)
            }
        }
        .font(.footnote)
        .padding(6)
        .frame(maxWidth: .infinity)
        .background(.thinMaterial)
    }
}
