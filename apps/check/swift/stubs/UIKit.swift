// UIKit: the documented signatures the iOS app calls, for type-checking only (every body traps).
// Objective-C optional protocol methods are given default implementations (no Objective-C runtime here).
@_exported import CoreGraphics

public final class UIImage: NSObject {
    public enum Orientation: Int { case up, down, left, right, upMirrored, downMirrored, leftMirrored, rightMirrored }
    public init?(contentsOfFile path: String) { fatalError("stub") }
    public init?(data: Data) { fatalError("stub") }
    public var cgImage: CGImage? { fatalError("stub") }
    public var imageOrientation: Orientation { fatalError("stub") }
    public var size: CGSize { fatalError("stub") }
    public func draw(at point: CGPoint) { fatalError("stub") }
}

open class UIResponder: NSObject {}
open class UIViewController: UIResponder {}
open class UINavigationController: UIViewController {}

public protocol UINavigationControllerDelegate: NSObjectProtocol {}

public protocol UIImagePickerControllerDelegate: NSObjectProtocol {
    func imagePickerController(_ picker: UIImagePickerController,
                               didFinishPickingMediaWithInfo info: [UIImagePickerController.InfoKey: Any])
    func imagePickerControllerDidCancel(_ picker: UIImagePickerController)
}
public extension UIImagePickerControllerDelegate {
    func imagePickerController(_ picker: UIImagePickerController,
                               didFinishPickingMediaWithInfo info: [UIImagePickerController.InfoKey: Any]) {}
    func imagePickerControllerDidCancel(_ picker: UIImagePickerController) {}
}

open class UIImagePickerController: UINavigationController {
    public enum SourceType: Int { case photoLibrary, camera, savedPhotosAlbum }
    public struct InfoKey: Hashable, RawRepresentable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let originalImage = InfoKey(rawValue: "UIImagePickerControllerOriginalImage")
        public static let editedImage = InfoKey(rawValue: "UIImagePickerControllerEditedImage")
    }
    public override init() { fatalError("stub") }
    open class func isSourceTypeAvailable(_ sourceType: SourceType) -> Bool { fatalError("stub") }
    open var sourceType: SourceType { get { fatalError("stub") } set { fatalError("stub") } }
    public weak var delegate: (any UIImagePickerControllerDelegate & UINavigationControllerDelegate)? {
        get { fatalError("stub") } set { fatalError("stub") }
    }
}

public final class UIGraphicsImageRendererContext: NSObject {}
public final class UIGraphicsImageRenderer: NSObject {
    public init(size: CGSize) { fatalError("stub") }
    public func image(actions: (UIGraphicsImageRendererContext) -> Void) -> UIImage { fatalError("stub") }
}
