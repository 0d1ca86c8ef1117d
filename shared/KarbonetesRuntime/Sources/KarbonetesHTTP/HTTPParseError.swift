/// Why a message could not be parsed. Each case maps to the status the server answers with
/// before it closes the connection (414, 431, 413, 400, 501, 505).
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case requestLineTooLong(limit: Int)
        case headersTooLarge(limit: Int)
        case bodyTooLarge(limit: Int)
        case malformed(String)
        case unsupportedVersion(String)
        case unsupportedTransferEncoding(String)
        case truncated
    }

    private let kind: Kind
    /// `request` or `response`: which message was being parsed.
    private let message: String

    private init(_ kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public static func requestLineTooLong(limit: Int) -> HTTPParseError {
        HTTPParseError(.requestLineTooLong(limit: limit), message: "request")
    }
    public static func headersTooLarge(limit: Int, message: String = "request") -> HTTPParseError {
        HTTPParseError(.headersTooLarge(limit: limit), message: message)
    }
    public static func bodyTooLarge(limit: Int, message: String = "request") -> HTTPParseError {
        HTTPParseError(.bodyTooLarge(limit: limit), message: message)
    }
    public static func malformed(_ reason: String, message: String = "request") -> HTTPParseError {
        HTTPParseError(.malformed(reason), message: message)
    }
    public static func unsupportedVersion(_ version: String, message: String = "request") -> HTTPParseError {
        HTTPParseError(.unsupportedVersion(version), message: message)
    }
    public static func unsupportedTransferEncoding(_ coding: String, message: String = "request") -> HTTPParseError {
        HTTPParseError(.unsupportedTransferEncoding(coding), message: message)
    }
    public static func truncated(message: String = "request") -> HTTPParseError {
        HTTPParseError(.truncated, message: message)
    }

    /// The status a server answers this error with.
    public var status: HTTPStatus {
        switch kind {
        case .requestLineTooLong: .uriTooLong
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .bodyTooLarge: .payloadTooLarge
        case .malformed, .truncated: .badRequest
        case .unsupportedVersion: .httpVersionNotSupported
        case .unsupportedTransferEncoding: .notImplemented
        }
    }

    public var description: String {
        switch kind {
        case .requestLineTooLong(let limit): "HTTP \(message): request line longer than \(limit) bytes"
        case .headersTooLarge(let limit): "HTTP \(message): header fields larger than \(limit) bytes"
        case .bodyTooLarge(let limit): "HTTP \(message): body larger than \(limit) bytes"
        case .malformed(let reason): "HTTP \(message): malformed: \(reason)"
        case .unsupportedVersion(let version): "HTTP \(message): unsupported protocol version \(version)"
        case .unsupportedTransferEncoding(let coding): "HTTP \(message): unsupported transfer coding \(coding)"
        case .truncated: "HTTP \(message): connection closed before the message was complete"
        }
    }
}
