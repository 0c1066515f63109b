// Owns the list of resource operations (the /common and /admin parts of the route table).
import type { Operation } from '../api/operation';
import { activityOperations } from './activities/routes';
import { noteOperations } from './notes/routes';
import { userOperations } from './users/routes';

export const resourceOperations: Operation[] = [...activityOperations, ...noteOperations, ...userOperations];
