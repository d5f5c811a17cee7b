// Every document the app (and the tests) use selects `id` wherever it selects an object that
// has one: graphcache normalises objects by their id, and one selected without it is stored
// embedded in its parent instead — where another query selecting it with its id overwrites it
// (the developer-mode banner once vanished that way).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  buildSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  parse,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type SelectionSetNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../../..');
const schema = buildSchema(readFileSync(join(root, 'schema/schema.graphql'), 'utf8'));

function documents(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return documents(path);
    return path.endsWith('.graphql') ? [path] : [];
  });
}

/** Whether `set` selects `id` itself or in one of its inline fragments. */
function selectsId(set: SelectionSetNode): boolean {
  return set.selections.some((s) =>
    s.kind === 'Field' ? s.name.value === 'id' && !s.alias : s.kind === 'InlineFragment' ? selectsId(s.selectionSet) : s.kind === 'FragmentSpread',
  );
}

describe('GraphQL documents', () => {
  it('select the id of every object that has one', () => {
    const missing: string[] = [];
    for (const file of documents(join(root, 'graphql'))) {
      const doc = parse(readFileSync(file, 'utf8'));
      const info = new TypeInfo(schema);
      visit(
        doc,
        visitWithTypeInfo(info, {
          Field(node) {
            const type = info.getType();
            if (!node.selectionSet || !type) return;
            const named = getNamedType(type);
            if ((isObjectType(named) || isInterfaceType(named)) && named.getFields().id && !selectsId(node.selectionSet)) {
              missing.push(`${file.slice(root.length + 1)}: ${node.name.value} (${named.name})`);
            }
          },
        }),
      );
    }
    expect(missing).toEqual([]);
  });
});
