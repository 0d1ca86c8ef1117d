/// A configuration that cannot be used, naming the file (or `in-cluster`) and the field, so
/// that the one line a user sees says what to fix.
public struct KubeConfigError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case missing(String)
        case invalid(String)
        case unreadable(String)
        case unsupported(String)
        case noConfiguration(String)
    }

    private let kind: Kind
    /// The kubeconfig path, a service-account file, or `in-cluster`.
    public let file: String
    /// The field concerned (`users[1].user.client-key-data`), or nil for the file as a whole.
    public let field: String?

    private init(_ kind: Kind, file: String, field: String?) {
        self.kind = kind
        self.file = file
        self.field = field
    }

    public static func missing(file: String, field: String, _ detail: String = "is required") -> KubeConfigError {
        .init(.missing(detail), file: file, field: field)
    }

    public static func invalid(file: String, field: String?, _ detail: String) -> KubeConfigError {
        .init(.invalid(detail), file: file, field: field)
    }

    public static func unreadable(file: String, field: String? = nil, _ detail: String) -> KubeConfigError {
        .init(.unreadable(detail), file: file, field: field)
    }

    public static func unsupported(file: String, field: String, _ detail: String) -> KubeConfigError {
        .init(.unsupported(detail), file: file, field: field)
    }

    /// No flag, no `KUBECONFIG`, not in a pod and no `~/.kube/config`.
    public static func noConfiguration(triedPath: String, _ detail: String) -> KubeConfigError {
        .init(.noConfiguration(detail), file: triedPath, field: nil)
    }

    public var description: String {
        let place = "kubeconfig \(file)" + (field.map { ": \($0)" } ?? "")
        return switch kind {
        case .missing(let detail): "\(place) \(detail)"
        case .invalid(let detail): "\(place): \(detail)"
        case .unreadable(let detail): "\(place): cannot be read: \(detail)"
        case .unsupported(let detail): "\(place) is not supported: \(detail)"
        case .noConfiguration(let detail): "no Kubernetes configuration: \(detail)"
        }
    }
}
