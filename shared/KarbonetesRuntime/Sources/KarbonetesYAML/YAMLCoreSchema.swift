/// Resolves scalars by the YAML 1.2 core schema, not libyaml's YAML 1.1 habits: `yes`, `no`,
/// `on` and `off` stay strings (a Job annotation `"on"` must not turn into `true`), `0o17` is
/// octal and `017` is decimal 17.
enum YAMLCoreSchema {
    static let stringTag = "tag:yaml.org,2002:str"
    static let intTag = "tag:yaml.org,2002:int"
    static let floatTag = "tag:yaml.org,2002:float"
    static let boolTag = "tag:yaml.org,2002:bool"
    static let nullTag = "tag:yaml.org,2002:null"

    static func resolve(text: String, tag: String?, isPlain: Bool, line: Int, column: Int) throws -> YAMLValue {
        switch tag {
        case stringTag?, "!"?:
            return .string(text)
        case intTag?:
            guard let value = int(text) else {
                throw YAMLError.invalidTaggedScalar(tag: "!!int", text: text, line: line, column: column)
            }
            return .int(value)
        case floatTag?:
            if let value = int(text) { return .double(Double(value)) }
            guard let value = float(text) else {
                throw YAMLError.invalidTaggedScalar(tag: "!!float", text: text, line: line, column: column)
            }
            return .double(value)
        case boolTag?:
            guard let value = bool(text) else {
                throw YAMLError.invalidTaggedScalar(tag: "!!bool", text: text, line: line, column: column)
            }
            return .bool(value)
        case nullTag?:
            guard isNull(text) else {
                throw YAMLError.invalidTaggedScalar(tag: "!!null", text: text, line: line, column: column)
            }
            return .null
        default:
            // Quoted and block scalars are strings; so are the scalars of unknown tags.
            guard isPlain, tag == nil else { return .string(text) }
            return plain(text)
        }
    }

    static func plain(_ text: String) -> YAMLValue {
        if isNull(text) { return .null }
        if let value = bool(text) { return .bool(value) }
        if let value = int(text) { return .int(value) }
        if looksDecimal(text), let value = Double(text) {
            // A decimal integer too large for Int.
            return .double(value)
        }
        if let value = float(text) { return .double(value) }
        return .string(text)
    }

    static func isNull(_ text: String) -> Bool {
        text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`.
    static func int(_ text: String) -> Int? {
        if text.hasPrefix("0o") { return digits(text.dropFirst(2), radix: 8) }
        if text.hasPrefix("0x") { return digits(text.dropFirst(2), radix: 16) }
        guard looksDecimal(text) else { return nil }
        return Int(text)
    }

    private static func looksDecimal(_ text: String) -> Bool {
        var body = Substring(text)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        return !body.isEmpty && body.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func digits(_ text: Substring, radix: Int) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: "+") }) else {
            return nil
        }
        return Int(text, radix: radix)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf`, `.nan` (three spellings each).
    static func float(_ text: String) -> Double? {
        var body = Substring(text)
        var sign = 1.0
        if body.first == "-" || body.first == "+" {
            if body.first == "-" { sign = -1 }
            body = body.dropFirst()
        }
        switch body {
        case ".inf", ".Inf", ".INF": return sign * .infinity
        case ".nan", ".NaN", ".NAN": return text == String(body) ? .nan : nil
        default: break
        }
        let bytes = Array(body.utf8)
        var index = 0
        func isDigit(_ at: Int) -> Bool {
            at < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at])
        }
        var mantissaDigits = 0
        while isDigit(index) { index += 1; mantissaDigits += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while isDigit(index) { index += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return nil }
        // `.5` needs a digit after the dot; `5.` is allowed by the core schema.
        if bytes.first == UInt8(ascii: "."), !isDigit(1) { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                index += 1
            }
            guard isDigit(index) else { return nil }
            while isDigit(index) { index += 1 }
        }
        guard index == bytes.count else { return nil }
        // Swift's parser does not take `5.` or `.5e3` in every form the schema allows: normalise.
        var normalised = String(body)
        if normalised.hasPrefix(".") { normalised = "0" + normalised }
        normalised = normalised.replacingDotBeforeExponent()
        guard let magnitude = Double(normalised) else { return nil }
        return sign * magnitude
    }
}

private extension String {
    /// `5.` → `5.0`, `5.e3` → `5.0e3`.
    func replacingDotBeforeExponent() -> String {
        var result = ""
        let scalars = Array(unicodeScalars)
        for (offset, scalar) in scalars.enumerated() {
            result.unicodeScalars.append(scalar)
            if scalar == ".", offset + 1 == scalars.count || scalars[offset + 1] == "e" || scalars[offset + 1] == "E" {
                result += "0"
            }
        }
        return result
    }
}
