/// Why the server could not start or keep its files, naming the file or address.
public struct DevAPIServerError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case cannotWrite(String)
        case cannotRead(String, String)
    }

    private let kind: Kind

    public static func cannotWrite(_ path: String) -> DevAPIServerError { DevAPIServerError(kind: .cannotWrite(path)) }
    public static func cannotRead(_ path: String, reason: String) -> DevAPIServerError {
        DevAPIServerError(kind: .cannotRead(path, reason))
    }

    public var description: String {
        switch kind {
        case .cannotWrite(let path): "cannot write \(path)"
        case .cannotRead(let path, let reason): "cannot read \(path): \(reason)"
        }
    }
}
