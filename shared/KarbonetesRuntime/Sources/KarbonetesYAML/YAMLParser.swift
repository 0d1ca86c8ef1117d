import CKarbonYAML

/// Builds ``YAMLValue`` documents from libyaml's event stream.
///
/// libyaml keeps a pointer to its input and, for string input, to the parser struct itself, so
/// both live in memory this type allocates and frees only after `yaml_parser_delete`.
struct YAMLEventParser: ~Copyable {
    static let maximumDepth = 512
    static let maximumAliasExpansion = 1_000_000

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>

    init(_ bytes: some Collection<UInt8>) {
        input = UnsafeMutableBufferPointer.allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = UnsafeMutablePointer.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deinitialize(count: 1)
        parser.deallocate()
        input.deallocate()
    }

    private enum Frame {
        case sequence(OpenCollection, items: [YAMLValue])
        case mapping(OpenCollection, entries: [(key: String, value: YAMLValue)], pending: PendingKey?, keys: Set<String>, merged: [(key: String, value: YAMLValue)])
    }

    /// What a sequence or mapping carries until its end event.
    private struct OpenCollection {
        var anchor: String?
        var nodeCount = 1
    }

    private enum PendingKey {
        case key(String, line: Int, column: Int)
        case merge(line: Int, column: Int)
    }

    private struct Anchored {
        var value: YAMLValue
        var nodeCount: Int
    }

    /// Every document of the stream, in order.
    func parseDocuments() throws -> [YAMLValue] {
        var documents: [YAMLValue] = []
        var stack: [Frame] = []
        var anchors: [String: Anchored] = [:]
        var expanded = 0
        var documentValue: YAMLValue?

        // Places a finished node into its parent (or as the document's root).
        func place(
            _ value: YAMLValue, nodeCount: Int, anchor: String?, line: Int, column: Int, keyText: String?,
            isMergeKey: Bool = false
        ) throws {
            if let anchor { anchors[anchor] = Anchored(value: value, nodeCount: nodeCount) }
            guard let top = stack.popLast() else {
                documentValue = value
                return
            }
            switch top {
            case .sequence(var collection, var items):
                items.append(value)
                collection.nodeCount += nodeCount
                stack.append(.sequence(collection, items: items))
            case .mapping(var collection, var entries, let pending, var keys, var merged):
                collection.nodeCount += nodeCount
                switch pending {
                case .none:
                    guard let keyText else { throw YAMLError.complexKey(line: line, column: column) }
                    if isMergeKey {
                        stack.append(.mapping(collection, entries: entries, pending: .merge(line: line, column: column), keys: keys, merged: merged))
                    } else {
                        stack.append(.mapping(collection, entries: entries, pending: .key(keyText, line: line, column: column), keys: keys, merged: merged))
                    }
                case .key(let key, let keyLine, let keyColumn)?:
                    guard keys.insert(key).inserted else { throw YAMLError.duplicateKey(key, line: keyLine, column: keyColumn) }
                    entries.append((key, value))
                    stack.append(.mapping(collection, entries: entries, pending: nil, keys: keys, merged: merged))
                case .merge(let keyLine, let keyColumn)?:
                    let sources: [YAMLValue]
                    switch value {
                    case .mapping: sources = [value]
                    case .sequence(let items): sources = items
                    default: throw YAMLError.invalidTaggedScalar(tag: "merge key value (a mapping or a list of mappings)", text: value.description, line: keyLine, column: keyColumn)
                    }
                    for source in sources {
                        guard case .mapping(let sourceEntries) = source else {
                            throw YAMLError.invalidTaggedScalar(tag: "merge key value (a mapping or a list of mappings)", text: source.description, line: keyLine, column: keyColumn)
                        }
                        // The first source that names a key wins, as in YAML 1.1's merge.
                        for entry in sourceEntries where !merged.contains(where: { $0.key == entry.key }) {
                            merged.append(entry)
                        }
                    }
                    stack.append(.mapping(collection, entries: entries, pending: nil, keys: keys, merged: merged))
                }
            }
        }

        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) != 0 else { throw syntaxError() }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return documents
            case YAML_DOCUMENT_START_EVENT:
                anchors = [:]
                documentValue = nil
            case YAML_DOCUMENT_END_EVENT:
                documents.append(documentValue ?? .null)
            case YAML_SEQUENCE_START_EVENT:
                guard stack.count < Self.maximumDepth else { throw YAMLError.tooDeep(limit: Self.maximumDepth, line: line, column: column) }
                try requireScalarKeyPosition(stack, line: line, column: column)
                stack.append(.sequence(OpenCollection(anchor: Self.string(event.data.sequence_start.anchor)), items: []))
            case YAML_SEQUENCE_END_EVENT:
                guard case .sequence(let collection, let items)? = stack.popLast() else { continue }
                try place(.sequence(items), nodeCount: collection.nodeCount, anchor: collection.anchor, line: line, column: column, keyText: nil)
            case YAML_MAPPING_START_EVENT:
                guard stack.count < Self.maximumDepth else { throw YAMLError.tooDeep(limit: Self.maximumDepth, line: line, column: column) }
                try requireScalarKeyPosition(stack, line: line, column: column)
                stack.append(.mapping(OpenCollection(anchor: Self.string(event.data.mapping_start.anchor)), entries: [], pending: nil, keys: [], merged: []))
            case YAML_MAPPING_END_EVENT:
                guard case .mapping(let collection, var entries, _, let keys, let merged)? = stack.popLast() else { continue }
                entries.append(contentsOf: merged.filter { !keys.contains($0.key) })
                try place(.mapping(entries), nodeCount: collection.nodeCount, anchor: collection.anchor, line: line, column: column, keyText: nil)
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = Self.string(scalar.value, length: scalar.length)
                let value = try YAMLCoreSchema.resolve(
                    text: text, tag: Self.string(scalar.tag), isPlain: scalar.style == YAML_PLAIN_SCALAR_STYLE,
                    line: line, column: column)
                let isPlain = scalar.style == YAML_PLAIN_SCALAR_STYLE
                try place(
                    value, nodeCount: 1, anchor: Self.string(scalar.anchor), line: line, column: column, keyText: text,
                    isMergeKey: isPlain && scalar.tag == nil && text == "<<")
            case YAML_ALIAS_EVENT:
                let name = Self.string(event.data.alias.anchor) ?? ""
                guard let anchored = anchors[name] else { throw YAMLError.unknownAlias(name, line: line, column: column) }
                expanded += anchored.nodeCount
                guard expanded <= Self.maximumAliasExpansion else {
                    throw YAMLError.aliasExpansion(limit: Self.maximumAliasExpansion, line: line, column: column)
                }
                try place(anchored.value, nodeCount: anchored.nodeCount, anchor: nil, line: line, column: column, keyText: Self.keyText(anchored.value))
            default:
                continue
            }
        }
    }

    /// A collection where a mapping key is expected is a complex key, which JSON cannot hold.
    private func requireScalarKeyPosition(_ stack: [Frame], line: Int, column: Int) throws {
        if case .mapping(_, _, .none, _, _)? = stack.last { throw YAMLError.complexKey(line: line, column: column) }
    }

    /// The text an aliased scalar contributes as a mapping key.
    private static func keyText(_ value: YAMLValue) -> String? {
        switch value {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .int(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): value
        case .sequence, .mapping: nil
        }
    }

    private func syntaxError() -> YAMLError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "malformed YAML"
        let context = state.context.map { String(cString: $0) }
        return YAMLError.syntax(
            problem: problem, context: context,
            line: Int(state.problem_mark.line) + 1, column: Int(state.problem_mark.column) + 1)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }
}
