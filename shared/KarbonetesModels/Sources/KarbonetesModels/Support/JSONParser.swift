public import Foundation

/// Why a byte sequence is not JSON, and where: the byte offset points at the first byte that
/// could not be read, so that a caller can say which part of a request body is wrong.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// The deepest nesting accepted; deeper input is an error, not a stack overflow.
    public static let maximumParseDepth = 512

    /// Parses RFC 8259 JSON (strict: one value, no trailing commas, no comments, valid UTF-8).
    ///
    /// Going through `JSONDecoder` into a `JSONValue` tries each case of the enum in turn and
    /// costs about thirty times as much for a 6 KB Job. Duplicate object keys keep the last
    /// value, as Go's `encoding/json` does.
    public init(parsing data: Data) throws(JSONParseError) {
        let result: Result<JSONValue, JSONParseError> = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            do throws(JSONParseError) {
                return .success(try JSONTape(bytes).value(at: 0))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Parses the UTF-8 of `text` (see ``init(parsing:)-(Data)``).
    public init(parsing text: String) throws(JSONParseError) {
        try self.init(parsing: Data(text.utf8))
    }
}

/// A JSON document as a flat list of tokens over its bytes, checked against the grammar in one
/// pass. Nothing is converted until it is read: a decoder that needs a dozen fields of a Job
/// creates a dozen strings, not the thousand of the whole AdmissionReview, and skips a subtree
/// (the containers of a pod spec) in one step, because each container token knows where it ends.
///
/// A class over a raw token buffer rather than a struct holding an array: decoders read tokens
/// millions of times a second, and every read through an array inside a shared reference cost
/// a retain and a release.
final class JSONTape {
    enum Kind: UInt8 {
        case null, `true`, `false`, number, string, array, object
    }

    struct Token {
        var kind: Kind
        /// For strings: a backslash escape is inside, so the bytes are not the text.
        var escaped: Bool
        /// For scalars: the byte range (strings without their quotes). For containers: the
        /// index of the token after the container's last one, and the number of members.
        var start: Int32
        var end: Int32
        var count: Int32 = 0
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var tokens: UnsafeMutablePointer<Token>
    private(set) var tokenCount = 0
    private var capacity: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) {
        self.bytes = bytes
        capacity = max(16, bytes.count / 10)
        tokens = .allocate(capacity: capacity)
        guard bytes.count < Int(Int32.max) else { throw JSONParseError(offset: 0, reason: "the document is over 2 GiB") }
        var scanner = Scanner(bytes: bytes, tape: self)
        scanner.skipWhitespace()
        try scanner.scanValue(depth: 0)
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else { throw scanner.fail("unexpected data after the JSON value") }
    }

    deinit { tokens.deallocate() }

    @inline(__always)
    fileprivate func append(_ token: Token) {
        if tokenCount == capacity { grow() }
        tokens[tokenCount] = token
        tokenCount += 1
    }

    private func grow() {
        let larger = UnsafeMutablePointer<Token>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: tokens, count: tokenCount)
        tokens.deallocate()
        tokens = larger
        capacity *= 2
    }

    /// Records where the container at `index` ends and how many members it has.
    fileprivate func close(_ index: Int, count: Int32) {
        tokens[index].end = Int32(tokenCount)
        tokens[index].count = count
    }

    /// The index of the token after the value at `index` (its whole subtree, for a container).
    @inline(__always)
    func next(after index: Int) -> Int {
        let token = tokens[index]
        return token.kind == .array || token.kind == .object ? Int(token.end) : index + 1
    }

    /// Whether the object key at `index` spells `name`.
    func key(at index: Int, equals name: String) -> Bool {
        let token = tokens[index]
        if token.escaped { return (try? string(at: index)) == name }
        let length = Int(token.end - token.start)
        var name = name
        return name.withUTF8 { utf8 in
            guard utf8.count == length else { return false }
            guard length > 0 else { return true }
            return memcmp(utf8.baseAddress!, bytes.baseAddress! + Int(token.start), length) == 0
        }
    }

    /// The value of an object's member named `name`, if the object has one; of duplicates, the
    /// last, as ``JSONValue/init(parsing:)-(Data)`` keeps it.
    func member(of object: Int, named name: String) -> Int? {
        var index = object + 1
        var found: Int?
        for _ in 0..<tokens[object].count {
            if key(at: index, equals: name) { found = index + 1 }
            index = next(after: index + 1)
        }
        return found
    }

    func string(at index: Int) throws(JSONParseError) -> String {
        let token = tokens[index]
        let slice = UnsafeBufferPointer(rebasing: bytes[Int(token.start)..<Int(token.end)])
        guard token.escaped else {
            guard let text = String(validating: slice, as: UTF8.self) else {
                throw JSONParseError(offset: Int(token.start), reason: "a string is not valid UTF-8")
            }
            return text
        }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(slice.count)
        var position = 0
        while position < slice.count {
            let byte = slice[position]
            position += 1
            guard byte == UInt8(ascii: "\\") else {
                unescaped.append(byte)
                continue
            }
            // The scanner checked every escape; here they are only decoded.
            let escape = slice[position]
            position += 1
            switch escape {
            case UInt8(ascii: "b"): unescaped.append(0x08)
            case UInt8(ascii: "f"): unescaped.append(0x0C)
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "r"): unescaped.append(0x0D)
            case UInt8(ascii: "t"): unescaped.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = Scanner.hex4(slice, at: position)
                position += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (Scanner.hex4(slice, at: position + 2) - 0xDC00)
                    position += 6
                }
                unescaped.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
            default: unescaped.append(escape)
            }
        }
        guard let text = String(validating: unescaped, as: UTF8.self) else {
            throw JSONParseError(offset: Int(token.start), reason: "a string is not valid UTF-8")
        }
        return text
    }

    func number(at index: Int) throws(JSONParseError) -> Double {
        let token = tokens[index]
        var position = Int(token.start)
        let end = Int(token.end)
        var negative = false
        if bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        if end - position <= 15 {
            var integer: Int64 = 0
            var whole = true
            while position < end {
                let byte = bytes[position]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                    whole = false
                    break
                }
                integer = integer * 10 + Int64(byte - UInt8(ascii: "0"))
                position += 1
            }
            if whole { return negative ? -Double(integer) : Double(integer) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(token.start)..<end]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError(offset: Int(token.start), reason: "the number \(text.prefix(40)) is out of range")
        }
        return value
    }

    /// The subtree at `index` as a ``JSONValue``.
    func value(at index: Int) throws(JSONParseError) -> JSONValue {
        let token = tokens[index]
        switch token.kind {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .number: return .number(try number(at: index))
        case .string: return .string(try string(at: index))
        case .array:
            var elements: [JSONValue] = []
            elements.reserveCapacity(Int(token.count))
            var element = index + 1
            for _ in 0..<token.count {
                elements.append(try value(at: element))
                element = next(after: element)
            }
            return .array(elements)
        case .object:
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(Int(token.count))
            var key = index + 1
            for _ in 0..<token.count {
                members[try string(at: key)] = try value(at: key + 1)
                key = next(after: key + 1)
            }
            return .object(members)
        }
    }
}

/// The one pass over the bytes that checks the grammar and records the tokens.
private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let tape: JSONTape
    var index = 0

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func scanValue(depth: Int) throws(JSONParseError) {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        let start = Int32(index)
        switch bytes[index] {
        case UInt8(ascii: "{"): try scanContainer(depth: depth + 1, isObject: true)
        case UInt8(ascii: "["): try scanContainer(depth: depth + 1, isObject: false)
        case UInt8(ascii: "\""):
            let escaped = try scanString()
            tape.append(JSONTape.Token(kind: .string, escaped: escaped, start: start + 1, end: Int32(index - 1)))
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            tape.append(JSONTape.Token(kind: .true, escaped: false, start: start, end: Int32(index)))
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            tape.append(JSONTape.Token(kind: .false, escaped: false, start: start, end: Int32(index)))
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            tape.append(JSONTape.Token(kind: .null, escaped: false, start: start, end: Int32(index)))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            tape.append(JSONTape.Token(kind: .number, escaped: false, start: start, end: Int32(index)))
        default:
            throw fail("unexpected character \(Self.describe(bytes[index]))")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            throw fail("expected \(literal)")
        }
        index += count
    }

    /// An object or an array: its token, then its members (a key token and a value each) or
    /// elements, then where it ends and how many it has.
    private mutating func scanContainer(depth: Int, isObject: Bool) throws(JSONParseError) {
        guard depth <= JSONValue.maximumParseDepth else { throw fail("nested deeper than \(JSONValue.maximumParseDepth) levels") }
        let what = isObject ? "an object" : "an array"
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        let container = tape.tokenCount
        tape.append(JSONTape.Token(kind: isObject ? .object : .array, escaped: false, start: Int32(index), end: 0))
        index += 1
        var count: Int32 = 0
        skipWhitespace()
        if index < bytes.count, bytes[index] == close {
            index += 1
            tape.close(container, count: count)
            return
        }
        while true {
            skipWhitespace()
            if isObject {
                guard index < bytes.count else { throw fail("unexpected end of input in an object") }
                guard bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a quoted object key") }
                let keyStart = Int32(index + 1)
                let escaped = try scanString()
                tape.append(JSONTape.Token(kind: .string, escaped: escaped, start: keyStart, end: Int32(index - 1)))
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
                index += 1
                skipWhitespace()
            }
            try scanValue(depth: depth)
            count += 1
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input in \(what)") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == close {
                index += 1
                tape.close(container, count: count)
                return
            } else {
                throw fail(isObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array")
            }
        }
    }

    /// At the opening quote; leaves `index` after the closing one. Returns whether an escape
    /// was seen. UTF-8 is checked when the string is read.
    private mutating func scanString() throws(JSONParseError) -> Bool {
        index += 1
        var escaped = false
        while index < bytes.count {
            skipPlainBytes()
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return escaped
            }
            if byte < 0x20 { throw fail("a control character must be escaped in a string") }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                index += 1
                guard index < bytes.count else { throw fail("unterminated escape") }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    let scalar = try checkedHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                        else { throw fail("a high surrogate escape is not followed by a low one") }
                        index += 2
                        guard (0xDC00...0xDFFF).contains(try checkedHex4()) else {
                            throw fail("a high surrogate escape is not followed by a low one")
                        }
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("a lone low surrogate escape")
                    }
                default:
                    throw fail("unknown escape \\\(Self.describe(bytes[index]))")
                }
                continue
            }
            index += 1
        }
        throw fail("unterminated string")
    }

    /// Skips eight bytes at a time while none of them is a quote, a backslash or a control
    /// character (most of a JSON document is string bytes that need no look).
    @inline(__always)
    private mutating func skipPlainBytes() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        guard let base = bytes.baseAddress else { return }
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let special =
                ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            guard special & highs == 0 else { return }
            index += 8
        }
    }

    private mutating func checkedHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("a \\u escape needs four hex digits") }
        for offset in 0..<4 where Self.hexDigit(bytes[index + offset]) == nil {
            throw fail("a \\u escape needs four hex digits")
        }
        defer { index += 4 }
        return Self.hex4(bytes, at: index)
    }

    /// Four hex digits already checked.
    static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | UInt32(hexDigit(bytes[position + offset]) ?? 0) }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private mutating func scanNumber() throws(JSONParseError) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fail("a number needs a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, Self.isDigit(bytes[index]) { throw fail("a number must not have a leading zero") }
        } else {
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fail("a fraction needs a digit") }
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fail("an exponent needs a digit") }
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    static func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
    }
}
