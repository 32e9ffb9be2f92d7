/**
 * Every TypeScript block in README.md, docs/*.md and the other Markdown files (examples' READMEs;
 * not CHANGELOG.md) compiles (issue 15: docs that cannot rot).
 *
 * All blocks go into one TypeScript program with the repository's compiler options, so
 * `waybill-seal` and its subpaths resolve to the source (tsconfig.json `paths`), as a reader's project
 * resolves them to the package. A block is its own module, placed next to its Markdown file, or at
 * the repository root for docs/ (`./examples/label/render.js` resolves as a reader at the root sees it). A
 * fragment names its context on the line above its fence, `<!-- ts-context: sealer -->`: the exports of
 * test/docs/contexts/sealer.ts are then in scope (those the block does not declare itself). A relative
 * import that stands for the reader's own files (Prisma's generated client) resolves under
 * test/docs/modules/ when the repository does not have it. An intended compile error is written in
 * the doc as `// @ts-expect-error`, so it is checked too.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { allCodeBlocks, type CodeBlock, docFiles, root, TS_LANGS } from './code-blocks.js';

const CONTEXT_DIR = `${root}test/docs/contexts/`;
const MODULES_DIR = `${root}test/docs/modules/`;
const contextNames = readdirSync(CONTEXT_DIR).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));

const blocks = allCodeBlocks();
const tsBlocks = blocks.filter((b) => TS_LANGS.has(b.lang));
const where = (b: CodeBlock, line = b.line) => `${b.file}:${line}`;

/** Names a module declares at its top level (imports, variables, functions, classes, types). */
function topLevelNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const bind = (n: ts.BindingName): void => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of source.statements) {
    if (ts.isImportDeclaration(s) && s.importClause) {
      const c = s.importClause;
      if (c.name) names.add(c.name.text);
      if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) names.add(c.namedBindings.name.text);
      else if (c.namedBindings) for (const e of c.namedBindings.elements) names.add(e.name.text);
    } else if (ts.isImportEqualsDeclaration(s)) names.add(s.name.text);
    else if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bind(d.name);
    else if (
      (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s)) &&
      s.name
    )
      names.add(s.name.text);
  }
  return names;
}

/** A context's exports: value or type only (a type needs `type` in the import: verbatimModuleSyntax). */
function contextExports(name: string): { name: string; typeOnly: boolean }[] {
  const text = readFileSync(`${CONTEXT_DIR}${name}.ts`, 'utf8');
  const source = ts.createSourceFile(`${name}.ts`, text, ts.ScriptTarget.Latest, true);
  const out: { name: string; typeOnly: boolean }[] = [];
  for (const s of source.statements) {
    if (ts.isExportDeclaration(s) && s.exportClause && ts.isNamedExports(s.exportClause)) {
      for (const e of s.exportClause.elements) out.push({ name: e.name.text, typeOnly: s.isTypeOnly || e.isTypeOnly });
      continue;
    }
    if (!ts.canHaveModifiers(s) || !ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    const typeOnly = ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s);
    if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) out.push({ name: (d.name as ts.Identifier).text, typeOnly });
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || typeOnly) && s.name) out.push({ name: s.name.text, typeOnly });
  }
  return out;
}

interface Virtual {
  block: CodeBlock;
  path: string;
  text: string;
  /** Lines added before the block's first line. */
  header: number;
}

function virtualFile(block: CodeBlock, index: number): Virtual {
  const own = topLevelNames(ts.createSourceFile('block.ts', block.code, ts.ScriptTarget.Latest, true));
  // A block sits next to its Markdown file (relative imports are the reader's there); docs/*.md and
  // the root's files are read from the repository root. `export {}` keeps a block a module.
  const dir = block.file.startsWith('docs/') || !block.file.includes('/') ? '' : block.file.slice(0, block.file.lastIndexOf('/') + 1);
  const context = (c: string) => `${'../'.repeat(dir.split('/').length - 1)}test/docs/contexts/${c}.js`.replace(/^(?!\.)/, './');
  const imports = block.contexts.map((c) => {
    const names = contextExports(c).filter((e) => !own.has(e.name));
    return names.length === 0 ? '' : `import { ${names.map((e) => (e.typeOnly ? `type ${e.name}` : e.name)).join(', ')} } from '${context(c)}';`;
  });
  return {
    block,
    path: `${root}${dir}__doc_block_${index}_${block.file.replace(/\W/g, '_')}_L${block.line}.ts`,
    text: `${imports.join(' ')}\n${block.code}\nexport {};\n`,
    header: 1,
  };
}

function compile(files: Virtual[]): string[] {
  const config = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile);
  const { options, fileNames } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  options.noEmit = true;
  const byPath = new Map(files.map((f) => [f.path, f]));
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, lang, onError, create) => {
    const v = byPath.get(fileName);
    return v ? ts.createSourceFile(fileName, v.text, lang, true) : getSourceFile(fileName, lang, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => byPath.has(f) || fileExists(f);
  const readFile = host.readFile.bind(host);
  host.readFile = (f) => byPath.get(f)?.text ?? readFile(f);
  const cache = ts.createModuleResolutionCache(root, (f) => f, options);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts, containingSource) =>
    literals.map((lit) => {
      const mode = ts.getModeForUsageLocation(containingSource, lit, opts);
      const found = ts.resolveModuleName(lit.text, containingFile, opts, host, cache, redirected, mode);
      if (found.resolvedModule || !byPath.has(containingFile) || !lit.text.startsWith('.')) return found;
      // The reader's own files (a generated Prisma client): stand-ins under test/docs/modules/.
      return ts.resolveModuleName(lit.text, `${MODULES_DIR}block.ts`, opts, host, cache, redirected, mode);
    });
  // The repository's ambient declarations (e.g. src/crypto/backend-module.d.ts for `#backend`).
  const ambient = fileNames.filter((f) => f.endsWith('.d.ts'));
  const program = ts.createProgram({ rootNames: [...ambient, ...files.map((f) => f.path)], options, host });
  const errors: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const v = d.file && byPath.get(d.file.fileName);
    if (!d.file || d.start === undefined) errors.push(`TS${d.code}: ${message}`);
    else if (!v) errors.push(`${d.file.fileName} TS${d.code}: ${message}`);
    else {
      const line = d.file.getLineAndCharacterOfPosition(d.start).line - v.header;
      errors.push(line < 0 ? `${where(v.block)} (its ts-context import) TS${d.code}: ${message}` : `${where(v.block, v.block.line + 1 + line)} TS${d.code}: ${message}`);
    }
  }
  return errors;
}

describe('TypeScript blocks in README.md, docs/*.md and the examples\' READMEs', () => {
  it('finds every block: the fence parser agrees with a plain count of ```ts lines', () => {
    const counted = docFiles()
      .map((f) => readFileSync(`${root}${f}`, 'utf8').match(/^[ >]*(```|~~~)\s*(ts|typescript)\b/gim)?.length ?? 0)
      .reduce((a, b) => a + b, 0);
    expect(tsBlocks.length).toBe(counted);
    expect(tsBlocks.length).toBeGreaterThanOrEqual(15);
    expect([...new Set(tsBlocks.map((b) => b.file))]).toEqual(expect.arrayContaining(['README.md', 'docs/ACCESS.md', 'docs/LABELS.md', 'docs/RETENTION.md', 'examples/backend/README.md']));
    expect(tsBlocks.filter((b) => b.file === 'README.md').length).toBeGreaterThanOrEqual(10);
  });

  it('no TypeScript hides under another label or none', () => {
    const unlabelled = blocks.filter((b) => !TS_LANGS.has(b.lang) && /\bfrom ['"]waybill-seal|^\s*(import|export|const|await) .*[;)]\s*$/m.test(b.code));
    expect(unlabelled.map((b) => `${where(b)} (\`\`\`${b.lang}): label it \`\`\`ts`)).toEqual([]);
  });

  it('every context named exists, only ts blocks name one, and no block turns checking off', () => {
    const wrong = blocks.flatMap((b) => {
      if (b.contextComment && !TS_LANGS.has(b.lang)) return [`${where(b)}: ts-context above a \`\`\`${b.lang} block`];
      if (b.contextComment && b.contexts.length === 0) return [`${where(b)}: <!-- ts-context: NAME --> names no context`];
      if (TS_LANGS.has(b.lang) && /@ts-(nocheck|ignore)\b/.test(b.code)) return [`${where(b)}: @ts-nocheck/@ts-ignore hide errors (an intended one is // @ts-expect-error)`];
      if (TS_LANGS.has(b.lang) && b.rest !== '') return [`${where(b)}: unknown info string "${b.rest}" (fragments say <!-- ts-context: NAME --> above the fence)`];
      return b.contexts.filter((c) => !contextNames.includes(c)).map((c) => `${where(b)}: no test/docs/contexts/${c}.ts`);
    });
    expect(wrong).toEqual([]);
  });

  it('every subpath export resolves to the source (tsconfig paths), never to a stale dist/', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, unknown> };
    const config = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile).config as { compilerOptions: { paths: Record<string, string[]> } };
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => `waybill-seal${k.slice(1)}`);
    expect(subpaths.length).toBeGreaterThan(10);
    expect(subpaths.filter((p) => !config.compilerOptions.paths[p]?.every((f) => f.startsWith('./src/') && existsSync(`${root}${f}`)))).toEqual([]);
  });

  it('every block compiles (strict, the repository compiler options; fragments with their declared context)', () => {
    expect(existsSync(`${root}tsconfig.json`)).toBe(true);
    const errors = compile(tsBlocks.map(virtualFile));
    expect(errors).toEqual([]);
  }, 300_000);
});
