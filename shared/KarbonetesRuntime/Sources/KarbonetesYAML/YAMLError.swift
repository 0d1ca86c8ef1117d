/// Why a YAML text did not parse or decode: the problem, where it is (1-based line and column),
/// and the file, once the caller attaches it, so that a bad kubeconfig names itself.
public struct YAMLError: Error, CustomStringConvertible {
    private enum Kind {
        case syntax(problem: String, context: String?)
        case unknownAlias(String)
        case duplicateKey(String)
        case complexKey
        case invalidTaggedScalar(tag: String, text: String)
        case invalidMerge(String)
        case tooDeep(limit: Int)
        case aliasExpansion(limit: Int)
        case documentCount(Int)
        case notJSON(String)
        case decoding(String)
        case unreadable(String)
    }

    private let kind: Kind
    /// 1-based; nil when the problem has no position (a decoding error).
    public let line: Int?
    /// 1-based.
    public let column: Int?
    /// The file the text came from, when known.
    public private(set) var file: String?

    private init(_ kind: Kind, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    static func syntax(problem: String, context: String?, line: Int, column: Int) -> YAMLError {
        YAMLError(.syntax(problem: problem, context: context), line: line, column: column)
    }

    static func unknownAlias(_ name: String, line: Int, column: Int) -> YAMLError {
        YAMLError(.unknownAlias(name), line: line, column: column)
    }

    static func duplicateKey(_ key: String, line: Int, column: Int) -> YAMLError {
        YAMLError(.duplicateKey(key), line: line, column: column)
    }

    static func complexKey(line: Int, column: Int) -> YAMLError {
        YAMLError(.complexKey, line: line, column: column)
    }

    static func invalidTaggedScalar(tag: String, text: String, line: Int, column: Int) -> YAMLError {
        YAMLError(.invalidTaggedScalar(tag: tag, text: text), line: line, column: column)
    }

    static func invalidMerge(_ value: String, line: Int, column: Int) -> YAMLError {
        YAMLError(.invalidMerge(value), line: line, column: column)
    }

    static func tooDeep(limit: Int, line: Int, column: Int) -> YAMLError {
        YAMLError(.tooDeep(limit: limit), line: line, column: column)
    }

    static func aliasExpansion(limit: Int, line: Int, column: Int) -> YAMLError {
        YAMLError(.aliasExpansion(limit: limit), line: line, column: column)
    }

    static func documentCount(_ count: Int) -> YAMLError {
        YAMLError(.documentCount(count))
    }

    static func notJSON(_ what: String) -> YAMLError {
        YAMLError(.notJSON(what))
    }

    static func decoding(_ message: String) -> YAMLError {
        YAMLError(.decoding(message))
    }

    static func unreadable(_ reason: String) -> YAMLError {
        YAMLError(.unreadable(reason))
    }

    /// The same error, naming `file`.
    public func attaching(file: String) -> YAMLError {
        var copy = self
        copy.file = file
        return copy
    }

    /// What is wrong, without the position.
    public var problem: String {
        switch kind {
        case .syntax(let problem, let context):
            context.map { "\(problem) \($0)" } ?? problem
        case .unknownAlias(let name): "alias *\(name) refers to no anchor defined before it"
        case .duplicateKey(let key): "duplicate mapping key \"\(key)\""
        case .complexKey: "a mapping key must be a scalar"
        case .invalidTaggedScalar(let tag, let text): "\"\(text)\" is not a valid \(tag)"
        case .invalidMerge(let value): "a << merge key takes a mapping or a list of mappings, not \(value)"
        case .tooDeep(let limit): "nesting deeper than \(limit) levels"
        case .aliasExpansion(let limit): "aliases expand to more than \(limit) nodes"
        case .documentCount(let count): "expected one document, found \(count)"
        case .notJSON(let what): "\(what) has no JSON representation"
        case .decoding(let message): message
        case .unreadable(let reason): reason
        }
    }

    /// `file:line:column: problem`, the shape editors and CI logs link to.
    public var description: String {
        var location = file ?? "YAML"
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return "\(location): \(problem)"
    }
}
