// CoreGraphics: the documented signatures the iOS app calls, for type-checking only (every body traps).
// CGFloat, CGPoint, CGSize and CGRect come from Foundation on Linux, as they do through it on iOS.
@_exported import Foundation

public final class CGImage {
    public var width: Int { fatalError("stub") }
    public var height: Int { fatalError("stub") }
}

public final class CGColorSpace {}
public func CGColorSpaceCreateDeviceRGB() -> CGColorSpace { fatalError("stub") }

public enum CGImageAlphaInfo: UInt32 {
    case none = 0, premultipliedLast, premultipliedFirst, last, first, noneSkipLast, noneSkipFirst, alphaOnly
}

public enum CGInterpolationQuality: Int32 { case `default` = 0, none, low, high, medium }

public final class CGContext {
    public init?(data: UnsafeMutableRawPointer?, width: Int, height: Int, bitsPerComponent: Int, bytesPerRow: Int,
                 space: CGColorSpace, bitmapInfo: UInt32) { fatalError("stub") }
    public var interpolationQuality: CGInterpolationQuality { get { fatalError("stub") } set { fatalError("stub") } }
    public func draw(_ image: CGImage, in rect: CGRect) { fatalError("stub") }
    public func makeImage() -> CGImage? { fatalError("stub") }
}
