import Foundation

/// One RFC 6902 operation. Karbonetes only ever sends the few ops it needs, each at the
/// deepest path that exists, so a patch never replaces a field the models do not know.
public struct JSONPatchOperation: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Op: String, Sendable, Hashable, Codable {
        case add, remove, replace, test, move, copy

        /// Whether RFC 6902 gives this op a `value` member (written `null` when absent).
        public var carriesValue: Bool {
            switch self {
            case .add, .replace, .test: true
            case .remove, .move, .copy: false
            }
        }
    }

    public var op: Op
    public var path: String
    public var value: JSONValue?
    public var from: String?

    public init(op: Op, path: String, value: JSONValue? = nil, from: String? = nil) {
        self.op = op
        self.path = path
        self.value = value
        self.from = from
    }

    public static func add(_ path: JSONPointer, _ value: JSONValue) -> JSONPatchOperation {
        JSONPatchOperation(op: .add, path: path.description, value: value)
    }

    public static func replace(_ path: JSONPointer, _ value: JSONValue) -> JSONPatchOperation {
        JSONPatchOperation(op: .replace, path: path.description, value: value)
    }

    public static func test(_ path: JSONPointer, _ value: JSONValue) -> JSONPatchOperation {
        JSONPatchOperation(op: .test, path: path.description, value: value)
    }

    public static func remove(_ path: JSONPointer) -> JSONPatchOperation {
        JSONPatchOperation(op: .remove, path: path.description)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(op, forKey: .op)
        try container.encode(path, forKey: .path)
        if let from { try container.encode(from, forKey: .from) }
        if op.carriesValue { try container.encode(value ?? .null, forKey: .value) }
    }

    public var description: String {
        let rendered = value.flatMap { try? String(decoding: KubernetesJSON.encoder.encode($0), as: UTF8.self) }
        return "\(op.rawValue) \(path)" + (rendered.map { " \($0)" } ?? "")
    }
}

/// An RFC 6901 pointer. Building paths from tokens (never by string concatenation) is what
/// keeps `carbon-aware.io/state` from becoming two path segments.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var tokens: [String]

    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses `/a/b~1c`; a literal that is not a valid pointer is a programming error.
    public init(stringLiteral value: String) {
        guard let pointer = JSONPointer(parsing: value) else {
            preconditionFailure("\"\(value)\" is not a JSON pointer")
        }
        self = pointer
    }

    public init?(parsing text: String) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { return nil }
        tokens = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            Self.unescape(String($0))
        }
    }

    public func appending(_ token: String) -> JSONPointer { JSONPointer(tokens: tokens + [token]) }
    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }
    /// The RFC 6902 "end of array" token, for appends.
    public func appendingEnd() -> JSONPointer { appending("-") }

    /// Escapes `~` as `~0` and `/` as `~1`, scanning the bytes once (pointers are built on
    /// every admission and release, and every annotation key has a `/`).
    public static func escape(_ token: String) -> String {
        let utf8 = token.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 4)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "~"): out.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "0")])
            case UInt8(ascii: "/"): out.append(contentsOf: [UInt8(ascii: "~"), UInt8(ascii: "1")])
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The inverse of ``escape(_:)``: `~1` is `/`, `~0` is `~` (in that order, per RFC 6901).
    public static func unescape(_ token: String) -> String {
        guard token.utf8.contains(UInt8(ascii: "~")) else { return token }
        var out: [UInt8] = []
        var bytes = token.utf8.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "~") else {
                out.append(byte)
                continue
            }
            switch bytes.next() {
            case UInt8(ascii: "0"): out.append(UInt8(ascii: "~"))
            case UInt8(ascii: "1"): out.append(UInt8(ascii: "/"))
            case let other?: out.append(contentsOf: [UInt8(ascii: "~"), other])
            case nil: out.append(UInt8(ascii: "~"))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { tokens.map { "/" + Self.escape($0) }.joined() }
}
