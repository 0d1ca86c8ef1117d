public import Foundation
public import KarbonetesLogging

/// Where a flag's value came from, so that an error says which one to fix.
public enum FlagSource: Sendable, Hashable, CustomStringConvertible {
    case argument
    case environment(String)
    case defaultValue

    public var description: String {
        switch self {
        case .argument: "from the command line"
        case .environment(let variable): "from environment variable \(variable)"
        case .defaultValue: "the default"
        }
    }
}

/// The values of one parse. The typed accessors throw a ``FlagError`` that names the flag and
/// where its bad value came from.
public struct ParsedFlags: Sendable {
    struct Resolved: Sendable {
        var value: String
        var source: FlagSource
    }

    private let program: String
    private let flags: [String: Flag]
    private let values: [String: Resolved]

    init(program: String, flags: [String: Flag], values: [String: Resolved]) {
        self.program = program
        self.flags = flags
        self.values = values
    }

    private func resolved(_ flag: Flag) -> Resolved? {
        precondition(flags[flag.name] != nil, "\(flag.spelling) is not a flag of \(program)")
        return values[flag.name]
    }

    /// Where the flag's value came from, or nil if it has none.
    public func source(_ flag: Flag) -> FlagSource? {
        resolved(flag)?.source
    }

    /// The raw value, or nil for an optional flag that was not given.
    public func string(_ flag: Flag) -> String? {
        resolved(flag)?.value
    }

    /// The raw value of a flag that must be given.
    public func requiredString(_ flag: Flag) throws -> String {
        guard let resolved = resolved(flag) else { throw FlagError.missingRequired(flag: flag) }
        return resolved.value
    }

    /// A boolean flag: false when absent and without a default.
    public func bool(_ flag: Flag) throws -> Bool {
        guard let resolved = resolved(flag) else { return false }
        guard let value = BooleanSpelling.parse(resolved.value) else {
            throw FlagError.invalidValue(
                flag: flag,
                value: resolved.value,
                source: resolved.source,
                reason: "not a boolean (true or false)"
            )
        }
        return value
    }

    public func int(_ flag: Flag) throws -> Int {
        try value(flag) { text in
            guard let number = Int(text) else { throw FlagValueReason("not an integer") }
            return number
        }
    }

    public func hostPort(_ flag: Flag) throws -> HostPort {
        try value(flag) { try HostPort(parsing: $0) }
    }

    /// The level of ``Flag/logLevel``.
    public func logLevel() throws -> LogLevel {
        try value(.logLevel) { text in
            guard let level = LogLevel(rawValue: text.lowercased()) else {
                throw FlagValueReason("not one of " + LogLevel.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return level
        }
    }

    /// Parses the value with any function (a duration, a URL); what `transform` throws becomes
    /// the reason of a ``FlagError`` naming the flag and the value's source.
    /// An absolute `http` or `https` URL with a host (a service's base URL).
    public func httpURL(_ flag: Flag) throws -> URL {
        try value(flag) { text in
            guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw FlagValueReason("not an http(s) URL")
            }
            return url
        }
    }

    public func value<Value>(_ flag: Flag, _ transform: (String) throws -> Value) throws -> Value {
        guard let resolved = resolved(flag) else { throw FlagError.missingRequired(flag: flag) }
        do {
            return try transform(resolved.value)
        } catch {
            throw FlagError.invalidValue(flag: flag, value: resolved.value, source: resolved.source, reason: "\(error)")
        }
    }
}

/// A reason a value does not parse, for transforms that have no error type of their own.
public struct FlagValueReason: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A command line or environment that does not fit the flags; the description names the flag.
public struct FlagError: Error, CustomStringConvertible {
    private enum Kind {
        case unknownFlag
        case unexpectedArgument
        case missingValue
        case missingRequired
        case invalidValue(value: String, source: FlagSource, reason: String)
    }

    private let kind: Kind
    /// The flag concerned, as written (`--listen`), or the stray argument.
    public let flag: String

    private init(_ kind: Kind, flag: String) {
        self.kind = kind
        self.flag = flag
    }

    static func unknownFlag(_ spelling: String) -> FlagError {
        FlagError(.unknownFlag, flag: spelling)
    }

    static func unexpectedArgument(_ argument: String) -> FlagError {
        FlagError(.unexpectedArgument, flag: argument)
    }

    static func missingValue(flag: Flag) -> FlagError {
        FlagError(.missingValue, flag: flag.spelling)
    }

    static func missingRequired(flag: Flag) -> FlagError {
        FlagError(.missingRequired, flag: flag.spelling)
    }

    static func invalidValue(flag: Flag, value: String, source: FlagSource, reason: String) -> FlagError {
        FlagError(.invalidValue(value: value, source: source, reason: reason), flag: flag.spelling)
    }

    /// Where the bad value came from, when the error is about a value.
    public var source: FlagSource? {
        if case .invalidValue(_, let source, _) = kind { return source }
        return nil
    }

    public var description: String {
        switch kind {
        case .unknownFlag: "unknown flag \(flag)"
        case .unexpectedArgument: "unexpected argument \"\(flag)\": every option is a --flag"
        case .missingValue: "flag \(flag) needs a value"
        case .missingRequired: "flag \(flag) is required"
        case .invalidValue(let value, let source, let reason):
            "invalid value \"\(value)\" for flag \(flag) (\(source)): \(reason)"
        }
    }
}
