// SwiftUI (with Combine's ObservableObject and @Published, which it re-exports): the documented
// signatures of the views, modifiers, property wrappers and scene types the iOS app uses, for
// type-checking only (every body traps). Modifiers return `some View` as SwiftUI's do, so a chain that
// calls a Text-only modifier after a generic one fails here as it does in Xcode.
@_exported import UIKit

// MARK: views and builders
@MainActor @preconcurrency
public protocol View {
    associatedtype Body: View
    @ViewBuilder var body: Body { get }
}
extension Never: View { public var body: Never { fatalError("stub") } }
extension Optional: View where Wrapped: View { public var body: Never { fatalError("stub") } }

public struct EmptyView: View { public var body: Never { fatalError("stub") } }
public struct TupleView<T>: View { public var body: Never { fatalError("stub") } }
public struct _ConditionalContent<TrueContent: View, FalseContent: View>: View { public var body: Never { fatalError("stub") } }
public struct ModifiedView: View { public var body: Never { fatalError("stub") } }

@resultBuilder public enum ViewBuilder {
    public static func buildBlock() -> EmptyView { fatalError("stub") }
    public static func buildBlock<Content: View>(_ content: Content) -> Content { content }
    public static func buildBlock<each Content: View>(_ content: repeat each Content) -> TupleView<(repeat each Content)> { fatalError("stub") }
    public static func buildIf<Content: View>(_ content: Content?) -> Content? { content }
    public static func buildEither<T: View, F: View>(first: T) -> _ConditionalContent<T, F> { fatalError("stub") }
    public static func buildEither<T: View, F: View>(second: F) -> _ConditionalContent<T, F> { fatalError("stub") }
}

public struct Text: View {
    public init(_ content: String) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
    public func monospacedDigit() -> Text { fatalError("stub") }
}
public struct Spacer: View { public init() {}; public var body: Never { fatalError("stub") } }
public struct Image: View {
    public init(uiImage: UIImage) { fatalError("stub") }
    public init(systemName: String) { fatalError("stub") }
    public func resizable() -> Image { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct Label<Title: View, Icon: View>: View { public var body: Never { fatalError("stub") } }
extension Label where Title == Text, Icon == Image {
    public init(_ title: String, systemImage name: String) { fatalError("stub") }
}
public struct Button<Label: View>: View { public var body: Never { fatalError("stub") } }
extension Button where Label == Text {
    public init(_ title: String, action: @escaping @MainActor () -> Void) { fatalError("stub") }
}

public struct HStack<Content: View>: View {
    public init(alignment: VerticalAlignment = .center, spacing: CGFloat? = nil, @ViewBuilder content: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public enum VerticalAlignment { case top, center, bottom }
public struct Group<Content: View>: View {
    public init(@ViewBuilder content: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct List<Content: View>: View {
    public init(@ViewBuilder content: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct Form<Content: View>: View {
    public init(@ViewBuilder content: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct NavigationStack<Content: View>: View {
    public init(@ViewBuilder root: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct Section<Content: View>: View {
    public init(_ title: String, @ViewBuilder content: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct TabView<Content: View>: View {
    public init(@ViewBuilder content: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct ForEach<Data: RandomAccessCollection, ID: Hashable, Content: View>: View {
    public init(_ data: Data, id: KeyPath<Data.Element, ID>, @ViewBuilder content: @escaping (Data.Element) -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
extension ForEach where Data.Element: Identifiable, ID == Data.Element.ID {
    public init(_ data: Data, @ViewBuilder content: @escaping (Data.Element) -> Content) { fatalError("stub") }
}
public struct Picker<SelectionValue: Hashable, Content: View>: View {
    public init(_ title: String, selection: Binding<SelectionValue>, @ViewBuilder content: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct Stepper: View {
    public init<V: Strideable>(_ title: String, value: Binding<V>, in bounds: ClosedRange<V>, step: V.Stride = 1) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
public struct LabeledContent: View {
    public init(_ title: String, value: String) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}

// MARK: styles
public protocol ShapeStyle {}
public struct Color: ShapeStyle, View { public var body: Never { fatalError("stub") } }
public struct HierarchicalShapeStyle: ShapeStyle {}
public struct Material: ShapeStyle {}
extension ShapeStyle where Self == Color {
    public static var red: Color { fatalError("stub") }
    public static var green: Color { fatalError("stub") }
}
extension ShapeStyle where Self == HierarchicalShapeStyle { public static var secondary: HierarchicalShapeStyle { fatalError("stub") } }
extension ShapeStyle where Self == Material { public static var thinMaterial: Material { fatalError("stub") } }
public struct Font { public static var footnote: Font { fatalError("stub") } }
public enum VerticalEdge { case top, bottom }

// MARK: modifiers
extension View {
    public func frame(minWidth: CGFloat? = nil, maxWidth: CGFloat? = nil, minHeight: CGFloat? = nil,
                      maxHeight: CGFloat? = nil) -> some View { ModifiedView() }
    public func scaledToFit() -> some View { ModifiedView() }
    public func padding(_ length: CGFloat) -> some View { ModifiedView() }
    public func font(_ font: Font?) -> some View { ModifiedView() }
    public func foregroundStyle<S: ShapeStyle>(_ style: S) -> some View { ModifiedView() }
    public func background<S: ShapeStyle>(_ style: S) -> some View { ModifiedView() }
    public func disabled(_ disabled: Bool) -> some View { ModifiedView() }
    public func navigationTitle(_ title: String) -> some View { ModifiedView() }
    public func tag<V: Hashable>(_ tag: V) -> some View { ModifiedView() }
    public func tabItem<V: View>(@ViewBuilder _ label: () -> V) -> some View { ModifiedView() }
    public func onChange<V: Equatable>(of value: V, initial: Bool = false,
                                       _ action: @escaping (_ oldValue: V, _ newValue: V) -> Void) -> some View { ModifiedView() }
    public func sheet<Content: View>(isPresented: Binding<Bool>, onDismiss: (() -> Void)? = nil,
                                     @ViewBuilder content: @escaping () -> Content) -> some View { ModifiedView() }
    public func safeAreaInset<V: View>(edge: VerticalEdge, spacing: CGFloat? = nil,
                                       @ViewBuilder content: () -> V) -> some View { ModifiedView() }
    public func task(priority: TaskPriority = .userInitiated, _ action: @escaping @Sendable () async -> Void) -> some View { ModifiedView() }
    public func environmentObject<T: ObservableObject>(_ object: T) -> some View { ModifiedView() }
}

// MARK: state (and Combine's ObservableObject / @Published)
public protocol ObservableObject: AnyObject {}

@propertyWrapper public struct Published<Value> {
    public init(wrappedValue: Value) { fatalError("stub") }
    public var wrappedValue: Value { get { fatalError("stub") } set { fatalError("stub") } }
}

@propertyWrapper @dynamicMemberLookup public struct Binding<Value> {
    public init(get: @escaping () -> Value, set: @escaping (Value) -> Void) { fatalError("stub") }
    public var wrappedValue: Value { get { fatalError("stub") } nonmutating set { fatalError("stub") } }
    public var projectedValue: Binding<Value> { self }
    public subscript<Subject>(dynamicMember keyPath: WritableKeyPath<Value, Subject>) -> Binding<Subject> { fatalError("stub") }
}
@propertyWrapper public struct State<Value> {
    public init(wrappedValue value: Value) { fatalError("stub") }
    public init() where Value: ExpressibleByNilLiteral { fatalError("stub") }
    public var wrappedValue: Value { get { fatalError("stub") } nonmutating set { fatalError("stub") } }
    public var projectedValue: Binding<Value> { fatalError("stub") }
}
@propertyWrapper public struct StateObject<ObjectType: ObservableObject> {
    public init(wrappedValue thunk: @autoclosure @escaping () -> ObjectType) { fatalError("stub") }
    public var wrappedValue: ObjectType { fatalError("stub") }
}
@propertyWrapper public struct EnvironmentObject<ObjectType: ObservableObject> {
    public init() {}
    public var wrappedValue: ObjectType { fatalError("stub") }
}
public struct DismissAction { public func callAsFunction() { fatalError("stub") } }
public struct EnvironmentValues { public var dismiss: DismissAction { fatalError("stub") } }
@propertyWrapper public struct Environment<Value> {
    public init(_ keyPath: KeyPath<EnvironmentValues, Value>) { fatalError("stub") }
    public var wrappedValue: Value { fatalError("stub") }
}

// MARK: UIKit bridge
public struct UIViewControllerRepresentableContext<Representable: UIViewControllerRepresentable> {
    public var coordinator: Representable.Coordinator { fatalError("stub") }
}
public protocol UIViewControllerRepresentable: View where Body == Never {
    associatedtype UIViewControllerType: UIViewController
    associatedtype Coordinator = Void
    typealias Context = UIViewControllerRepresentableContext<Self>
    @MainActor func makeUIViewController(context: Context) -> UIViewControllerType
    @MainActor func updateUIViewController(_ uiViewController: UIViewControllerType, context: Context)
    @MainActor func makeCoordinator() -> Coordinator
}
extension UIViewControllerRepresentable {
    public var body: Never { fatalError("stub") }
}
extension UIViewControllerRepresentable where Coordinator == Void {
    public func makeCoordinator() -> Coordinator { () }
}

// MARK: app and scenes
@MainActor @preconcurrency
public protocol Scene { associatedtype Body: Scene; @SceneBuilder var body: Body { get } }
extension Never: Scene {}
@resultBuilder public enum SceneBuilder {
    public static func buildBlock<Content: Scene>(_ content: Content) -> Content { content }
}
public struct WindowGroup<Content: View>: Scene {
    public init(@ViewBuilder content: () -> Content) { fatalError("stub") }
    public var body: Never { fatalError("stub") }
}
@MainActor @preconcurrency
public protocol App {
    associatedtype Body: Scene
    @SceneBuilder var body: Body { get }
    init()
}
extension App { @MainActor public static func main() { fatalError("stub") } }
