// PhotosUI: the documented signatures of the photo picker the iOS app uses, for type-checking only.
@_exported import SwiftUI

public struct PHPickerFilter: Equatable { public static var images: PHPickerFilter { fatalError("stub") } }

// CoreTransferable's protocol, which Data adopts
public protocol Transferable {}
extension Data: Transferable {}

public struct PhotosPickerItem: Equatable, Hashable {
    public func loadTransferable<T: Transferable>(type: T.Type) async throws -> T? { fatalError("stub") }
}

public struct PhotosPicker<Label: View>: View { public var body: Never { fatalError("stub") } }
extension PhotosPicker where Label == Text {
    public init(_ title: String, selection: Binding<PhotosPickerItem?>, matching filter: PHPickerFilter? = nil) { fatalError("stub") }
}
