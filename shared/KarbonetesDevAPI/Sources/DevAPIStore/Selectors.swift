import Foundation
public import KarbonetesModels

/// A label selector, parsed from the query syntax (`app=x,tier!=db,env in (a,b),!legacy`) or
/// read from a `metav1.LabelSelector` object (webhooks' `namespaceSelector`/`objectSelector`).
public struct LabelSelector: Sendable, Hashable {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    /// Matches everything, as an absent selector does.
    public static let everything = LabelSelector()

    /// Parses the `labelSelector` query parameter.
    public init(parsing text: String) throws(StoreError) {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let trimmed = term.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            requirements.append(try Self.parseTerm(trimmed, in: text))
        }
        self.requirements = requirements
    }

    /// Reads `{matchLabels, matchExpressions}`; nil or `{}` matches everything.
    public init(object: JSONValue?) throws(StoreError) {
        var requirements: [Requirement] = []
        for (key, value) in object?["matchLabels"]?.objectValue ?? [:] {
            requirements.append(.equals(key, value.stringValue ?? ""))
        }
        for expression in object?["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = Set(expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            switch expression["operator"]?.stringValue {
            case "In": requirements.append(.isIn(key, values))
            case "NotIn": requirements.append(.notIn(key, values))
            case "Exists": requirements.append(.exists(key))
            case "DoesNotExist": requirements.append(.doesNotExist(key))
            case let other: throw .badRequest("\"\(other ?? "")\" is not a valid label selector operator for key \(key)")
            }
        }
        self.requirements = requirements
    }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            }
        }
    }

    /// Splits on commas outside parentheses.
    private static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1; current.append(character)
            case ")": depth -= 1; current.append(character)
            case "," where depth == 0: terms.append(current); current = ""
            default: current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    private static func parseTerm(_ term: String, in text: String) throws(StoreError) -> Requirement {
        func invalid() -> StoreError { .badRequest("unable to parse requirement: \"\(term)\" in label selector \"\(text)\"") }
        if term.hasPrefix("!") {
            let key = String(term.dropFirst()).trimmingCharacters(in: .whitespaces)
            guard isKey(key) else { throw invalid() }
            return .doesNotExist(key)
        }
        for (token, make) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] {
            if let range = term.range(of: token) {
                let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard isKey(key), isValue(value) else { throw invalid() }
                return make(key, value)
            }
        }
        for (keyword, isIn) in [(" notin ", false), (" in ", true)] {
            if let range = term.range(of: keyword) {
                let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let list = term[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard isKey(key), list.hasPrefix("("), list.hasSuffix(")") else { throw invalid() }
                let values = Set(
                    list.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                guard values.allSatisfy(isValue) else { throw invalid() }
                return isIn ? .isIn(key, values) : .notIn(key, values)
            }
        }
        guard isKey(term) else { throw invalid() }
        return .exists(term)
    }

    private static func isKey(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
    }

    private static func isValue(_ text: String) -> Bool {
        text.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }
}

/// A field selector (`metadata.name=x,metadata.namespace!=y`). Any dotted path into the object
/// is accepted (the real server accepts a fixed list per resource, which always includes
/// `metadata.name` and `metadata.namespace`); a missing field reads as the empty string.
public struct FieldSelector: Sendable, Hashable {
    public struct Term: Sendable, Hashable {
        public var path: [String]
        public var value: String
        public var negated: Bool
    }

    public var terms: [Term]

    public static let everything = FieldSelector(terms: [])

    public init(terms: [Term]) { self.terms = terms }

    public init(parsing text: String) throws(StoreError) {
        var terms: [Term] = []
        for raw in text.split(separator: ",") {
            let term = String(raw).trimmingCharacters(in: .whitespaces)
            if term.isEmpty { continue }
            let parsed: Term? = {
                for (token, negated) in [("!=", true), ("==", false), ("=", false)] {
                    if let range = term.range(of: token) {
                        let key = String(term[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
                        let value = String(term[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                        guard !key.isEmpty else { return nil }
                        return Term(path: key.split(separator: ".").map(String.init), value: value, negated: negated)
                    }
                }
                return nil
            }()
            guard let parsed else { throw .badRequest("invalid field selector: \"\(text)\": \"\(term)\" has no operator") }
            terms.append(parsed)
        }
        self.terms = terms
    }

    public func matches(_ object: JSONValue) -> Bool {
        terms.allSatisfy { term in
            let actual: String
            switch object.value(at: term.path) {
            case .string(let text): actual = text
            case .bool(let flag): actual = flag ? "true" : "false"
            case .number(let number): actual = number.rounded() == number ? String(Int64(number)) : String(number)
            default: actual = ""
            }
            return (actual == term.value) != term.negated
        }
    }
}
