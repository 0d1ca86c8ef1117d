/// A TLS failure, naming the file, peer or context it concerns and OpenSSL's own reason.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case unreadableFile(String)
        case invalidPEM(String, reason: String)
        case contextSetup(String)
        case handshakeFailed(peer: String, reason: String)
        case connectionFailed(peer: String, reason: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    public static func unreadableFile(_ path: String) -> TLSError { TLSError(.unreadableFile(path)) }
    public static func invalidPEM(_ source: String, reason: String) -> TLSError { TLSError(.invalidPEM(source, reason: reason)) }
    public static func contextSetup(_ reason: String) -> TLSError { TLSError(.contextSetup(reason)) }
    public static func handshakeFailed(peer: String, reason: String) -> TLSError {
        TLSError(.handshakeFailed(peer: peer, reason: reason))
    }
    public static func connectionFailed(peer: String, reason: String) -> TLSError {
        TLSError(.connectionFailed(peer: peer, reason: reason))
    }

    public var isHandshakeFailure: Bool {
        if case .handshakeFailed = kind { true } else { false }
    }

    public var description: String {
        switch kind {
        case .unreadableFile(let path): "TLS: cannot read \(path)"
        case .invalidPEM(let source, let reason): "TLS: invalid PEM in \(source): \(reason)"
        case .contextSetup(let reason): "TLS: context setup failed: \(reason)"
        case .handshakeFailed(let peer, let reason): "TLS: handshake with \(peer) failed: \(reason)"
        case .connectionFailed(let peer, let reason): "TLS: connection with \(peer) failed: \(reason)"
        }
    }
}
