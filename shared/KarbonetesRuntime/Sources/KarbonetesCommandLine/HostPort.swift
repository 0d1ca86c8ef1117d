/// A listen or connect address: `HOST:PORT`, `[IPv6]:PORT`, or `:PORT` for every interface.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets; `0.0.0.0` for `:PORT`.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses an address; port 0 is allowed (the kernel picks one, as tests want).
    public init(parsing text: String) throws {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw HostPortError.unclosedBracket(text) }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw HostPortError.missingPort(text) }
            portPart = rest.dropFirst()
            guard !hostPart.isEmpty else { throw HostPortError.emptyHost(text) }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw HostPortError.missingPort(text) }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { throw HostPortError.unbracketedIPv6(text) }
        }
        guard !portPart.isEmpty, portPart.allSatisfy(\.isASCII), portPart.allSatisfy(\.isNumber),
            let port = Int(portPart), (0...65535).contains(port)
        else { throw HostPortError.invalidPort(text) }
        self.host = hostPart.isEmpty ? "0.0.0.0" : String(hostPart)
        self.port = port
    }

    /// Brackets an IPv6 host again, so that the description parses back.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Why a text is not a `HOST:PORT` address; the description quotes the text.
public struct HostPortError: Error, CustomStringConvertible {
    private enum Kind {
        case missingPort, invalidPort, unclosedBracket, emptyHost, unbracketedIPv6
    }

    private let kind: Kind
    /// The text that did not parse.
    public let text: String

    private init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }

    static func missingPort(_ text: String) -> HostPortError { HostPortError(.missingPort, text) }
    static func invalidPort(_ text: String) -> HostPortError { HostPortError(.invalidPort, text) }
    static func unclosedBracket(_ text: String) -> HostPortError { HostPortError(.unclosedBracket, text) }
    static func emptyHost(_ text: String) -> HostPortError { HostPortError(.emptyHost, text) }
    static func unbracketedIPv6(_ text: String) -> HostPortError { HostPortError(.unbracketedIPv6, text) }

    public var description: String {
        switch kind {
        case .missingPort: "address \"\(text)\" has no :PORT"
        case .invalidPort: "address \"\(text)\" has a port that is not a number from 0 to 65535"
        case .unclosedBracket: "address \"\(text)\" opens [ without closing it"
        case .emptyHost: "address \"\(text)\" has an empty [] host"
        case .unbracketedIPv6: "address \"\(text)\" looks like IPv6: write it as [host]:port"
        }
    }
}
