// Typed operations from the same documents the tests and third parties use (`../graphql`),
// checked against the committed schema: a document that no longer matches the schema fails
// `npm run codegen`, and so the build.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema/schema.graphql',
  documents: ['../graphql/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', UUID: 'string', Email: 'string', JSON: 'unknown', Upload: 'File' },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};
export default config;
